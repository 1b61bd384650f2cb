"""Pipeline throughput: 1,000 conversations x 5 messages through the whole bot.

Each conversation is a user who sends a message, waits for the reply, and sends the next
(so no two messages fold into one turn): 5,000 turns through the real runtime (inbox, lease,
context, tools, journal, outbox, delivery) against the scripted model server answering
instantly in its own process. Prints turns per second and the receive -> reply latency
(p50/p99), for the embedded store and, separately, for the MongoDB implementation against
the local MongoDB-compatible test server (a test server: not a production figure).

    .venv/bin/python -m bench.throughput [--store sqlite|mongo|both] [--conversations 1000]
                                         [--pipeline-only] [--processes 2]

The test wire server is pure Python and runs inside this process, so on MongoDB its work is
counted as the bot's CPU; use ``--conversations 50`` or so there (1,000 take most of an hour).
``--processes N`` runs N bot processes on one SQLite file (how a single machine uses its
cores), each serving its share of the users. ``--pipeline-only`` replaces the agent runtime
with a runner that echoes the message without a model, to show the pipeline's own cost per
turn. The same figures as a client of ``mnemo run`` sees them, through its HTTP chat API and
with the bot pinned to one core, come from ``bench.front_door``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.queues import Queue as QueueType
from multiprocessing.synchronize import Barrier as BarrierType
from pathlib import Path

from bot.settings import Settings
from bot.wiring import running
from engine import (
    Audience,
    AudienceKind,
    Author,
    Engine,
    Inbound,
    LocalEmbedder,
    Outbound,
    ReceiveOutcome,
    new_id,
    utcnow,
)
from tests.e2e.pipeline_doubles import RecordingRunner
from tests.fakes.openai_server import FakeOpenAIProcess


@dataclass
class TimingPort:
    """A platform that answers at once and notes when each message's reply arrived."""

    platform: str = "bench"
    waiting: dict[str, asyncio.Future[float]] = field(default_factory=dict)

    def expect(self, inbox_id: str) -> asyncio.Future[float]:
        return self.waiting.setdefault(inbox_id, asyncio.get_running_loop().create_future())

    async def deliver(self, reply: Outbound) -> str:
        future = self.expect(reply.inbox_id)
        if not future.done():
            future.set_result(time.perf_counter())
        return reply.id

    @contextlib.asynccontextmanager
    async def working(self, inbound: Inbound) -> AsyncIterator[None]:
        yield


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass(frozen=True, slots=True)
class Load:
    """What one bot process measured."""

    turns: int
    elapsed: float
    cpu: float
    latencies: tuple[float, ...]


async def run_store(
    settings: Settings,
    users: range,
    messages: int,
    pipeline_only: bool,
    *,
    platform: str = "bench",
    start: Callable[[], object] = lambda: None,
) -> Load:
    async with running(settings) as runtime:
        port = TimingPort(platform)
        engine = runtime.engine
        if pipeline_only:
            await runtime.engine.stop()
            engine = Engine(runtime.store, RecordingRunner(), worker_limit=settings.workers)
            await engine.start()
        engine.register_platform(port)
        agent_id = runtime.default_agent.id
        latencies: list[float] = []

        async def user(n: int) -> None:
            audience = Audience("bench:W1", AudienceKind.DM, f"D{n}", f"U{n}")
            for m in range(messages):
                ref = new_id()
                sent = time.perf_counter()
                result = await engine.receive(
                    Inbound(
                        platform=port.platform,
                        agent_id=agent_id,
                        audience=audience,
                        thread="",
                        author=Author(f"U{n}", f"user {n}"),
                        text=f"message {m} from user {n}: how is the release going?",
                        event_id=ref,
                        message_ref=ref,
                        sent_at=utcnow(),
                    )
                )
                assert result.outcome is ReceiveOutcome.ACCEPTED, result
                async with asyncio.timeout(1800):
                    replied = await port.expect(result.inbox_id)
                latencies.append(replied - sent)

        await asyncio.to_thread(start)
        cpu_started = time.process_time()
        started = time.perf_counter()
        await asyncio.gather(*(user(n) for n in users))
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        if pipeline_only:
            await engine.stop()
    return Load(len(latencies), elapsed, cpu, tuple(latencies))


def report(label: str, loads: Sequence[Load]) -> None:
    turns = sum(load.turns for load in loads)
    elapsed = max(load.elapsed for load in loads)
    cpu = sum(load.cpu for load in loads)
    latencies = [t for load in loads for t in load.latencies]
    print(
        f"{label}: {turns} turns in {elapsed:.1f} s = {turns / elapsed:.0f} turns/s "
        f"(bot CPU {cpu:.1f} s = {cpu / turns * 1000:.2f} ms/turn); receive -> reply "
        f"p50 {statistics.median(latencies) * 1000:.0f} ms, "
        f"p99 {percentile(latencies, 0.99) * 1000:.0f} ms"
    )


def _bot_process(
    settings: Settings,
    users: range,
    messages: int,
    pipeline_only: bool,
    platform: str,
    barrier: BarrierType,
    results: QueueType[Load],
) -> None:
    """One of several bot processes sharing the store; each serves its own users."""
    load = asyncio.run(
        run_store(settings, users, messages, pipeline_only, platform=platform, start=barrier.wait)
    )
    results.put(load)


def run_processes(
    settings: Settings, conversations: int, messages: int, pipeline_only: bool, processes: int
) -> list[Load]:
    """Several bot processes on one store, started together; a platform name per process, so
    each delivers the replies of the messages it received."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(processes)
    results: QueueType[Load] = context.Queue()
    share = -(-conversations // processes)
    workers = [
        context.Process(
            target=_bot_process,
            args=(
                settings,
                range(i * share, min(conversations, (i + 1) * share)),
                messages,
                pipeline_only,
                f"bench-{i}",
                barrier,
                results,
            ),
        )
        for i in range(processes)
    ]
    for worker in workers:
        worker.start()
    loads = [results.get(timeout=3600) for _ in workers]
    for worker in workers:
        worker.join()
    return loads


def bench_settings(data_dir: Path, base_url: str, workers: int, **extra: object) -> Settings:
    values: dict[str, object] = {
        "OPENAI_BASE_URL": base_url,
        "OPENAI_API_KEY": "bench",
        "MNEMO_DATA_DIR": data_dir,
        "MNEMO_WORKERS": workers,
        "MNEMO_HTTP_PORT": 0,
    }
    values.update(extra)
    return Settings.model_validate(values)


async def main(
    store: str,
    conversations: int,
    messages: int,
    workers: int,
    pipeline_only: bool,
    processes: int,
) -> None:
    print(
        f"{conversations} conversations x {messages} messages, {workers} workers, "
        f"{os.cpu_count()} CPUs visible"
        + (", pipeline only (no agent runtime, no model)" if pipeline_only else "")
    )
    users = range(conversations)
    async with FakeOpenAIProcess() as llm:
        if store in ("sqlite", "both"):
            with tempfile.TemporaryDirectory() as data_dir:
                settings = bench_settings(Path(data_dir), llm.base_url, workers)
                if processes > 1:
                    loads = await asyncio.to_thread(
                        run_processes, settings, conversations, messages, pipeline_only, processes
                    )
                    report(f"embedded SQLite, {processes} bot processes", loads)
                else:
                    load = await run_store(settings, users, messages, pipeline_only)
                    report("embedded SQLite", [load])
        if store in ("mongo", "both"):
            from tests.fakes.mongo_wire import ensure_test_vector_indexes, mongo_test_uri

            database = f"bench_{uuid.uuid4().hex[:8]}"
            await ensure_test_vector_indexes(database, LocalEmbedder().dimensions)
            with tempfile.TemporaryDirectory() as data_dir:
                settings = bench_settings(
                    Path(data_dir),
                    llm.base_url,
                    workers,
                    MONGODB_URI=mongo_test_uri(),
                    MONGODB_DATABASE=database,
                )
                load = await run_store(settings, users, messages, pipeline_only)
                report("MongoDB (mongoeco test wire server)", [load])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", choices=["sqlite", "mongo", "both"], default="both")
    parser.add_argument("--conversations", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=5)
    parser.add_argument("--workers", type=int, default=64)
    parser.add_argument("--pipeline-only", action="store_true")
    parser.add_argument(
        "--processes", type=int, default=1, help="bot processes sharing the SQLite store"
    )
    args = parser.parse_args()
    asyncio.run(
        main(
            args.store,
            args.conversations,
            args.messages,
            args.workers,
            args.pipeline_only,
            args.processes,
        )
    )
