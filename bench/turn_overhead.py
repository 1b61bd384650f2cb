"""Engine time per turn (everything but the model's answer) as history grows.

Runs turns through the whole pipeline (inbox, lease, context, tools, journal, outbox,
delivery) on the embedded store, against the scripted model server answering instantly, and
subtracts the time spent waiting on the model. Prints p50/p99 at 10, 1,000 and 10,000 messages
of history (summarised as a real conversation would be, all but the newest 40), and the
process's peak resident memory.

    .venv/bin/python -m bench.turn_overhead [--turns 200]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import tempfile
import time
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from engine import ChatRequest, Completion, LLMClient, Message, Role, Scope, Summary, utcnow
from tests.fakes.openai_server import FakeOpenAI
from tests.harness import bot_running, dm, settings_for

#: Messages of the pre-built history left after its summary.
KEPT_IN_WINDOW = 40


class TimedLLM(LLMClient):
    """The real client, counting the seconds spent waiting for the model."""

    waited = 0.0

    async def complete(self, request: ChatRequest) -> Completion:
        started = time.perf_counter()
        try:
            return await super().complete(request)
        finally:
            TimedLLM.waited += time.perf_counter() - started


def history(agent_id: str, user: str, count: int) -> list[Message]:
    start = utcnow() - timedelta(days=30)
    return [
        Message(
            id=f"h{i}",
            agent_id=agent_id,
            workspace="test:W1",
            channel=f"D-{user}",
            thread="",
            scope=Scope.dm(user),
            role=Role.USER if i % 2 == 0 else Role.ASSISTANT,
            author=user if i % 2 == 0 else agent_id,
            author_name=user if i % 2 == 0 else "mnemo",
            content=f"message {i}: we talked about plans, lunch and the release of version {i}",
            seq=i + 1,
            created_at=start + timedelta(seconds=i * 60),
        )
        for i in range(count)
    ]


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def measure(data_dir: Path, history_size: int, turns: int) -> tuple[float, float]:
    async with FakeOpenAI() as llm:
        settings = settings_for(data_dir, llm)
        client = TimedLLM(base_url=llm.base_url, api_key="bench")
        async with bot_running(settings, llm, client=client) as bot:
            runtime = bot.runtime
            user = f"u{history_size}"
            old = history(runtime.default_agent.id, user, history_size)
            for start in range(0, len(old), 1000):
                await runtime.store.messages.append(old[start : start + 1000])
            if len(old) > KEPT_IN_WINDOW:
                # A conversation that grew turn by turn has summarised all but its newest
                # messages on the way; start from that state, not from an unsummarised dump.
                folded = old[-KEPT_IN_WINDOW - 1]
                await runtime.store.summaries.put(
                    Summary(
                        agent_id=folded.agent_id,
                        workspace=folded.workspace,
                        channel=folded.channel,
                        thread="",
                        scope=folded.scope,
                        text="We talked about plans, lunch and many releases.",
                        through_seq=folded.seq,
                    ),
                    0,
                )
            await bot.say(dm(user), user, "warm up")
            samples = []
            for i in range(turns):
                TimedLLM.waited = 0.0
                started = time.perf_counter()
                await bot.say(dm(user), user, f"turn {i}: what did we say about the release?")
                samples.append((time.perf_counter() - started - TimedLLM.waited) * 1000)
            return statistics.median(samples), percentile(samples, 0.99)


async def main(turns: int) -> None:
    print(f"engine time per turn, {turns} turns each (ms, model time excluded)")
    print(f"{'history':>8} {'p50':>8} {'p99':>8}")
    results = []
    for size in (10, 1_000, 10_000):
        with tempfile.TemporaryDirectory() as tmp:
            p50, p99 = await measure(Path(tmp), size, turns)
        results.append(p50)
        print(f"{size:>8} {p50:>8.2f} {p99:>8.2f}")
    drift = (max(results) - min(results)) / min(results) * 100
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"p50 spread across history sizes: {drift:.0f}%   peak RSS: {peak_mb:.0f} MB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=200)
    asyncio.run(main(parser.parse_args().turns))
