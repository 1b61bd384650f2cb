"""How long a turn with tool steps takes when Slack is slow to show its status line.

Turns run through the whole pipeline on the embedded store, in a Slack assistant thread (where
each tool step is shown: "searching memory…"), against the scripted model server and the fake
Slack Web API answering every ``assistant.threads.setStatus`` after a delay. Each turn calls
three tools before its reply. Prints the turn time (inbox to delivered) and how many status
calls Slack received per turn.

    .venv/bin/python -m bench.step_status [--turns 10] [--status-ms 200]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from bot.wiring import Runtime
from engine import Audience, AudienceKind
from tests.fakes.openai_server import FakeOpenAI, tool_call
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.slack_world import answer_in_thread, delivering_runtime

TEAM = "T0001"
CHANNEL = "DBENCH"
STATUS = "assistant.threads.setStatus"


async def one_turn(
    runtime: Runtime, llm: FakeOpenAI, api: FakeSlackApi, n: int
) -> tuple[float, int]:
    """The turn's time in seconds, and the status calls Slack received during it."""
    llm.push(
        tool_call("archival_memory_search", query="release"),
        tool_call("conversation_search", query="release"),
        tool_call("core_memory_append", label="human", content=f"Asked about the release ({n})."),
        tool_call("send_message", message="It ships on Thursday."),
    )
    before = len(api.calls_of(STATUS))
    audience = Audience(f"slack:{TEAM}", AudienceKind.DM, CHANNEL, "UBENCH")
    started = time.perf_counter()
    thread = f"{1_600_000_000 + n}.000100"
    await answer_in_thread(runtime, audience, thread, f"when does the release ship? ({n})")
    return time.perf_counter() - started, len(api.calls_of(STATUS)) - before


async def main(turns: int, status_ms: float) -> None:
    api = FakeSlackApi(team_id=TEAM, assistant_threads=True)
    api.hang(STATUS, status_ms / 1000, times=1_000_000)
    async with FakeOpenAI() as llm, delivering_runtime(api, llm) as runtime:
        await one_turn(runtime, llm, api, 0)  # warm-up
        measured = [await one_turn(runtime, llm, api, n + 1) for n in range(turns)]
    ms = sorted(seconds * 1000 for seconds, _ in measured)
    calls = statistics.median(count for _, count in measured)
    print(f"turns with 3 tool steps, Slack answering setStatus after {status_ms:g} ms")
    print(
        f"turn time: p50 {statistics.median(ms):7.1f} ms   max {ms[-1]:7.1f} ms   "
        f"({turns} turns; {calls:g} setStatus calls per turn)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--status-ms", type=float, default=200.0, help="Slack's delay")
    args = parser.parse_args()
    asyncio.run(main(args.turns, args.status_ms))
