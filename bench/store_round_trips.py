"""What one simple turn asks of the store: MongoDB commands, SQLite statements and transactions.

Runs simple turns (one user message, one model step answering with ``send_message``, one reply
delivered) through the whole runtime against the scripted model server answering instantly, and
counts per turn, split by stage:

- on MongoDB, the driver's commands (PyMongo command monitoring), by command name and by
  collection, and how many started while no other command was in flight ("in sequence");
- on the embedded store, SQLite's statements and transactions (a write transaction is one that
  wrote, or a write outside any transaction).

Stages come from the engine's observer reports and the model calls: intake (``Engine.receive``),
claim (the conversation's lease, then its pending items with their journalled outcome and
agent), context (from the turn's start to its first model call), step N (from model call N to
the next one or the turn's end), settle (the outcome: journal, messages, lineage, outbox and
inbox marks), delivery (the post, and the reply marked delivered), and wind-down (after
delivery until the conversation's worker is idle: the lease given back). On MongoDB, the
commands of the waiting caller (after intake), of the inbox poll and of the delivery sweep are
counted apart as "background": their number follows the turn's duration, not its work.
MongoDB runs against the local MongoDB-compatible test server, or ``MONGODB_URI`` when it is
set. ``--list`` also prints the last turn's operations in order.

    .venv/bin/python -m bench.store_round_trips [--turns 50] [--store sqlite|mongo|both] [--list]
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import os
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pymongo import AsyncMongoClient, monitoring

from bot.settings import Settings
from engine import Completion, LLMClient, Stage
from tests.fakes.openai_server import FakeOpenAI
from tests.harness import Bot, bot_running, dm, settings_for

WARM_UP_TURNS = 5
#: How long a turn's worker gets to go idle after its reply before the next turn starts.
SETTLE_GRACE_S = 0.005

#: The stage a turn is in from an observed stage's start (True) or end (False) on.
STAGE_AFTER: dict[tuple[Stage, bool], str] = {
    (Stage.RECEIVE, False): "claim",
    (Stage.TURN, True): "context",
    (Stage.TURN, False): "settle",
    (Stage.DELIVER, True): "delivery",
    (Stage.DELIVER, False): "wind-down",
}
STAGES = ("intake", "claim", "context", "settle", "delivery", "wind-down")
#: Engine tasks that poll the store whatever the turns do.
BACKGROUND_TASKS = frozenset({"dispatcher", "reply delivery"})
WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")
#: The list of sub-operations each write command carries.
BATCHES = {"insert": "documents", "update": "updates", "delete": "deletes"}

type Tally = dict[str, Counter[str]]
type Staged = list[tuple[str, Operation]]


@dataclass(frozen=True, slots=True)
class Operation:
    """One store round trip: a driver command or an SQLite statement."""

    started: float
    name: str
    #: The collection and the command's shape, or the statement's text.
    detail: str = ""
    #: Another operation was in flight when this one started.
    overlapped: bool = False
    #: Sent by the waiting caller or a polling task (see ``BACKGROUND_TASKS``).
    background: bool = False


@dataclass
class Timeline:
    """Stage boundaries and store operations on one ``perf_counter`` clock."""

    marks: list[tuple[float, str]] = field(default_factory=list)
    operations: list[Operation] = field(default_factory=list)
    model_calls: int = 0
    #: The task that sends the messages and waits for their replies.
    caller: asyncio.Task[Any] | None = None

    def mark(self, at: float, stage: str) -> None:
        self.marks.append((at, stage))

    def stage_finished(self, stage: Stage, seconds: float) -> None:
        """The engine observer's report, turned into the marks of the stage's start and end."""
        ended = time.perf_counter()
        for at, is_start in ((ended - seconds, True), (ended, False)):
            if (stage, is_start) in STAGE_AFTER:
                self.mark(at, STAGE_AFTER[stage, is_start])

    def turn(self, start: float, end: float) -> Staged:
        """Each operation of the window ``start``-``end`` with the stage it fell in (the
        caller's own after intake, and the polling tasks', as "background")."""
        marks = sorted(m for m in self.marks if start <= m[0] <= end)
        times = [at for at, _ in marks]
        staged = []
        for op in self.operations:
            if start <= op.started <= end:
                stage = marks[bisect.bisect_right(times, op.started) - 1][1]
                staged.append(("background" if op.background and stage != "intake" else stage, op))
        return staged

    def is_background(self, task: asyncio.Task[Any] | None) -> bool:
        return task is not None and (task is self.caller or task.get_name() in BACKGROUND_TASKS)


class MarkedLLM(LLMClient):
    """The real client, marking where each model step starts."""

    timeline: Timeline

    async def complete(self, *args: Any, **kwargs: Any) -> Completion:
        self.timeline.model_calls += 1
        self.timeline.mark(time.perf_counter(), f"step {self.timeline.model_calls}")
        return await super().complete(*args, **kwargs)


def command_detail(name: str, command: Mapping[str, Any]) -> str:
    """The collection, and how many writes a write command carries or which stages a
    pipeline has."""
    target = command.get(name)
    detail = target if isinstance(target, str) else ""
    if name in BATCHES:
        detail += f" x{len(command.get(BATCHES[name]) or ())}"
    elif name == "aggregate":
        detail += " " + ",".join(next(iter(stage)) for stage in command.get("pipeline", ()))
    return detail


class CommandCounter(monitoring.CommandListener):
    """Every command of every client created after registration, while recording."""

    def __init__(self) -> None:
        self.timeline: Timeline | None = None
        self._in_flight: set[int] = set()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if self.timeline is None:
            return
        self.timeline.operations.append(
            Operation(
                time.perf_counter(),
                event.command_name,
                command_detail(event.command_name, event.command),
                overlapped=bool(self._in_flight),
                background=self.timeline.is_background(_current_task()),
            )
        )
        self._in_flight.add(event.request_id)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        self._in_flight.discard(event.request_id)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        self._in_flight.discard(event.request_id)


class StatementTracer:
    """Every statement on the SQLite connections opened since the tracer was installed.

    SQLite reports the statements its triggers and virtual tables run inside a statement too:
    as ``-- ...`` comments (skipped) and as repeats of the statement's text (an identical write
    right after another is counted once).
    """

    def __init__(self) -> None:
        self.timeline: Timeline | None = None
        self._connections: list[sqlite3.Connection] = []
        self._last = ""

    def audit(self, event: str, args: tuple[Any, ...]) -> None:
        # Raised while the connection is being made: it is traced once it is ready (start).
        if event == "sqlite3.connect/handle" and isinstance(args[0], sqlite3.Connection):
            self._connections.append(args[0])

    def start(self, timeline: Timeline) -> None:
        self.timeline = timeline
        for connection in self._connections:
            connection.set_trace_callback(self.trace)

    def stop(self) -> None:
        self.timeline = None
        self._connections.clear()

    def trace(self, statement: str) -> None:
        text = " ".join(statement.split()).rstrip(";")
        if text.startswith("--"):
            return
        repeat, self._last = text == self._last, text
        if self.timeline is None or (repeat and text.upper().startswith(WRITES)):
            return
        words = text.upper().split()
        name = "BEGIN IMMEDIATE" if words[:2] == ["BEGIN", "IMMEDIATE"] else words[0]
        self.timeline.operations.append(Operation(time.perf_counter(), name, text))


def _current_task() -> asyncio.Task[Any] | None:
    try:
        return asyncio.current_task()
    except RuntimeError:  # no loop running in this thread
        return None


def tally_commands(operations: Staged) -> Tally:
    tally: Tally = {}
    for stage, op in operations:
        for bucket in (stage,) if stage == "background" else (stage, "turn"):
            counts = tally.setdefault(bucket, Counter())
            collection = op.detail.split(" ")[0] or "-"
            counts.update(["commands", f"cmd:{op.name}", f"coll:{collection}"])
            if not op.overlapped:
                counts["in sequence"] += 1
    return tally


def tally_statements(operations: Staged) -> Tally:
    tally: Tally = {}

    def count(stage: str, key: str) -> None:
        for bucket in (stage, "turn"):
            tally.setdefault(bucket, Counter())[key] += 1

    begun: str | None = None  # the stage the open transaction began in
    wrote = False
    for stage, op in operations:
        if op.name.startswith("BEGIN"):
            begun, wrote = stage, op.name == "BEGIN IMMEDIATE"
            count(stage, "transactions")
        elif op.name in ("COMMIT", "ROLLBACK"):
            if begun is not None and wrote:
                count(begun, "write tx")
            begun = None
        else:
            count(stage, "statements")
            count(stage, op.name)
            if op.name in WRITES:
                wrote = True
                if begun is None:
                    count(stage, "write tx")
    return tally


@dataclass
class Turns:
    """Per-turn tallies (stage -> key -> count), for medians across turns."""

    tallies: list[Tally] = field(default_factory=list)
    model_calls: list[int] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    last: Staged = field(default_factory=list)

    def median(self, stage: str, key: str) -> float:
        return statistics.median(t.get(stage, Counter())[key] for t in self.tallies)

    def keys(self, prefix: str) -> list[str]:
        """The whole turn's keys starting with ``prefix``, most frequent first."""
        seen: Counter[str] = Counter()
        for tally in self.tallies:
            seen.update(tally.get("turn", Counter()))
        return [key for key, _ in seen.most_common() if key.startswith(prefix)]

    def stages(self) -> list[str]:
        steps = [f"step {n + 1}" for n in range(max(self.model_calls))]
        waits = ["background"] if any("background" in t for t in self.tallies) else []
        return [*STAGES[:3], *steps, *STAGES[3:], "turn", *waits]


async def worker_idle(bot: Bot) -> None:
    """Wait until the conversation's worker has let go of it (lease released, inbox empty)."""
    for _ in range(2000):
        if not bot.runtime.engine.running_turns:
            break
        await asyncio.sleep(0.0005)
    await asyncio.sleep(SETTLE_GRACE_S)


async def run_turns(
    bot: Bot, timeline: Timeline, turns: int, tally: Callable[[Staged], Tally]
) -> Turns:
    """Warm up, then run ``turns`` simple turns one after another and tally each."""
    result = Turns()
    timeline.caller = asyncio.current_task()
    for index in range(WARM_UP_TURNS + turns):
        timeline.model_calls = 0
        start = time.perf_counter()
        timeline.mark(start, "intake")
        replies = await bot.say(dm("u1"), "u1", f"turn {index}: what is on for today?")
        elapsed = time.perf_counter() - start
        await worker_idle(bot)
        assert len(replies) == 1, replies
        if index >= WARM_UP_TURNS:
            result.last = timeline.turn(start, time.perf_counter())
            result.tallies.append(tally(result.last))
            result.model_calls.append(timeline.model_calls)
            result.seconds.append(elapsed)
    return result


@asynccontextmanager
async def bot_on(settings: Settings, llm: FakeOpenAI, timeline: Timeline) -> AsyncIterator[Bot]:
    client = MarkedLLM(base_url=llm.base_url, api_key="bench")
    client.timeline = timeline
    async with bot_running(settings, llm, client=client) as bot:
        # The engine reports its stages to the runtime's metrics: hear the same reports.
        report = bot.runtime.metrics.stage_finished

        def observe(stage: Stage, seconds: float) -> None:
            report(stage, seconds)
            timeline.stage_finished(stage, seconds)

        bot.runtime.metrics.stage_finished = observe  # type: ignore[method-assign]
        yield bot


async def measure_mongo(turns: int, counter: CommandCounter) -> Turns:
    from tests.fakes.mongo_wire import ensure_test_vector_indexes, mongo_test_uri

    uri, database = mongo_test_uri(), f"bench_{uuid.uuid4().hex[:12]}"
    timeline = Timeline()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            async with FakeOpenAI() as llm:
                settings = settings_for(Path(tmp), llm, MONGODB_URI=uri, MONGODB_DATABASE=database)
                async with bot_on(settings, llm, timeline) as bot:
                    await ensure_test_vector_indexes(database, bot.runtime.embedder.dimensions)
                    counter.timeline = timeline
                    try:
                        return await run_turns(bot, timeline, turns, tally_commands)
                    finally:
                        counter.timeline = None
    finally:
        cleanup: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(uri)
        await cleanup.drop_database(database)
        await cleanup.close()


async def measure_sqlite(turns: int, tracer: StatementTracer) -> Turns:
    timeline = Timeline()
    with tempfile.TemporaryDirectory() as tmp:
        async with FakeOpenAI() as llm, bot_on(settings_for(Path(tmp), llm), llm, timeline) as bot:
            tracer.start(timeline)
            try:
                return await run_turns(bot, timeline, turns, tally_statements)
            finally:
                tracer.stop()


def print_table(
    title: str, turns: Turns, columns: Sequence[tuple[str, str]], listing: bool
) -> None:
    ms = statistics.median(turns.seconds) * 1000
    print(f"\n{title}: median per turn over {len(turns.tallies)} turns")
    print(f"  (receive -> reply {ms:.1f} ms, {statistics.median(turns.model_calls):g} model calls)")
    widths = [max(len(label) + 2, 7) for label, _ in columns]
    print(
        f"  {'stage':<10}" + "".join(f"{c[0]:>{w}}" for c, w in zip(columns, widths, strict=True))
    )
    for stage in turns.stages():
        cells = [turns.median(stage, key) for _, key in columns]
        print(f"  {stage:<10}" + "".join(f"{c:>{w}g}" for c, w in zip(cells, widths, strict=True)))
    if listing:
        print("  the last turn, in order ('|' = started while another was in flight):")
        for stage, op in turns.last:
            mark = "|" if op.overlapped else " "
            print(f"    {stage:<10} {mark} {op.name:<14} {op.detail[:90]}")


def report_mongo(turns: Turns, listing: bool) -> None:
    columns = [("commands", "commands"), ("in sequence", "in sequence")]
    columns += [(key.removeprefix("cmd:"), key) for key in turns.keys("cmd:")]
    where = "MONGODB_URI" if os.environ.get("MONGODB_URI") else "the local test server"
    print_table(f"MongoDB driver commands on {where}", turns, columns, listing)
    collections = [
        f"{k.removeprefix('coll:')} {turns.median('turn', k):g}" for k in turns.keys("coll:")
    ]
    print("  by collection (whole turn): " + ", ".join(collections))


def report_sqlite(turns: Turns, listing: bool) -> None:
    columns = [
        ("statements", "statements"),
        ("write tx", "write tx"),
        ("explicit tx", "transactions"),
    ]
    columns += [(key, key) for key in turns.keys("") if key.isupper()]
    print_table("SQLite statements and transactions", turns, columns, listing)


async def main(turns: int, stores: str, listing: bool) -> None:
    started = time.perf_counter()
    if stores in ("mongo", "both"):
        counter = CommandCounter()
        monitoring.register(counter)  # applies to every client created from now on
        report_mongo(await measure_mongo(turns, counter), listing)
    if stores in ("sqlite", "both"):
        tracer = StatementTracer()
        sys.addaudithook(tracer.audit)
        report_sqlite(await measure_sqlite(turns, tracer), listing)
    print(f"\n(ran in {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=50)
    parser.add_argument("--store", choices=("sqlite", "mongo", "both"), default="both")
    parser.add_argument("--list", action="store_true", help="print the last turn's operations")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.turns, arguments.store, arguments.list))
