"""Running jobs across replicas: once per slot, crashed runs retried, backoff, live first."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from engine.audience import Scope
from engine.records import new_id
from jobs import JobScheduler, RunContext, RunRecord, RunStatus, Target
from jobs.consolidation import ConsolidationJob
from jobs.history import TargetState
from tests.fakes.openai_server import error
from tests.integration.test_jobs_world import BACKENDS, World, dm, open_world, public


@pytest.fixture(params=BACKENDS)
async def world(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[World]:
    async with open_world(request.param, tmp_path) as opened:
        yield opened


class CountingJob:
    """A job with fixed targets that records who ran what (no model involved)."""

    name = "count"
    cadence_s = 60.0

    def __init__(self, targets: Sequence[str], hold: float = 0.0) -> None:
        self._targets = targets
        self._hold = hold
        self.ran: list[str] = []

    async def targets(self, now: datetime) -> Sequence[Target[str]]:
        return [Target(t, "test:W1", Scope.workspace(), t) for t in self._targets]

    async def run(self, target: str, ctx: RunContext) -> str:
        await asyncio.sleep(self._hold)
        self.ran.append(target)
        return f"ran {target}"


def by_target(records: Sequence[RunRecord]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for record in records:
        counts[record.target] = counts.get(record.target, 0) + 1
    return counts


async def test_two_replicas_run_each_target_once_per_slot(world: World) -> None:
    replica = await world.replica()
    first = world.runner(holder="replica-a")
    second = world.runner(store=replica, holder="replica-b")
    job_a, job_b = CountingJob(["t1", "t2", "t3"], 0.05), CountingJob(["t1", "t2", "t3"], 0.05)

    await asyncio.gather(first.run_job(job_a), second.run_job(job_b))
    assert sorted(job_a.ran + job_b.ran) == ["t1", "t2", "t3"]
    # Later in the same slot nothing is due, on either replica.
    await asyncio.gather(first.run_job(job_a), second.run_job(job_b))
    assert len(job_a.ran + job_b.ran) == 3

    world.clock.advance(seconds=60)
    await asyncio.gather(first.run_job(job_a), second.run_job(job_b))
    assert sorted(job_a.ran + job_b.ran) == ["t1", "t1", "t2", "t2", "t3", "t3"]
    runs = await first.history.runs("count")
    assert len(runs) == 6
    assert {r.status for r in runs} == {RunStatus.OK}
    assert {r.holder for r in runs} <= {"replica-a", "replica-b"}


async def test_two_scheduler_processes_consolidate_each_conversation_once(world: World) -> None:
    for channel in ("general", "random"):
        await world.said(public(channel), "gus", f"hello {channel}")
    await world.said(dm("gus"), "gus", "just between us")
    replica = await world.replica()
    settings = world.settings(consolidate_every_s=0.3)
    schedulers = [
        JobScheduler(
            world.runner(settings, store=store, holder=name),
            [ConsolidationJob(store, world.embedder, settings, settings.consolidate_every_s)],
        )
        for store, name in ((world.store, "a"), (replica, "b"))
    ]
    for scheduler in schedulers:
        scheduler.start()
    try:
        async with asyncio.timeout(10):
            while True:
                if len(await schedulers[0].runner.history.runs("consolidate")) >= 3:
                    break
                await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)  # several more ticks on both
    finally:
        for scheduler in schedulers:
            await scheduler.stop()

    runs = await schedulers[1].runner.history.runs("consolidate")
    assert sorted(by_target(runs).values()) == [1, 1, 1]
    assert {r.status for r in runs} == {RunStatus.OK}
    assert len(world.llm.chat_requests) == 3


async def test_a_crashed_run_is_retried_once_its_lease_expires(world: World) -> None:
    runner = world.runner(world.settings(lease_s=0.5))
    job = CountingJob(["t1"])
    slot = int(world.clock.now.timestamp() // job.cadence_s)
    # A replica took the lease, recorded the run as running, then died.
    crashed = RunRecord(
        new_id(), "count", "t1", "test:W1", Scope.workspace(), "dead", 1, world.clock.now
    )
    assert await runner.history.claim(crashed, slot, None)
    await runner.history.save_run(crashed)
    assert await runner.history.state("count", "t1") == TargetState(
        slot, RunStatus.RUNNING, 1, crashed.key, "test:W1", Scope.workspace()
    )
    assert await world.store.leases.acquire("job:count:t1", "dead", 0.4)

    assert await runner.run_job(job) == []
    await asyncio.sleep(0.6)
    retried = await runner.run_job(job)
    assert [(r.status, r.attempt) for r in retried] == [(RunStatus.OK, 2)]
    old = await runner.history.run(crashed.key)
    assert old is not None
    assert old.status is RunStatus.CRASHED


async def test_model_failure_backs_off_the_job_then_recovers(world: World) -> None:
    await world.said(public("general"), "hal", "remember that I like chess")
    world.llm.push(*[error(503) for _ in range(40)])
    runner = world.runner(world.settings(backoff_s=120))
    job = world.memory_job(ConsolidationJob)

    failed = await runner.run_job(job)
    assert [r.status for r in failed] == [RunStatus.FAILED]
    assert "model unavailable" in failed[0].error
    backoff = await runner.history.backoff("consolidate")
    assert backoff is not None
    assert backoff.retry_at >= world.clock.now + timedelta(seconds=119)

    world.llm.reset()
    world.clock.advance(seconds=60)
    assert await runner.run_job(job) == []  # still backing off: the model is not asked
    assert world.llm.chat_requests == []

    world.clock.advance(seconds=61)
    recovered = await runner.run_job(job)
    assert [(r.status, r.attempt) for r in recovered] == [(RunStatus.OK, 2)]
    assert await runner.history.backoff("consolidate") is None


async def test_failing_target_gives_up_after_max_attempts_in_a_slot(world: World) -> None:
    class Broken(CountingJob):
        async def run(self, target: str, ctx: RunContext) -> str:
            raise RuntimeError("disk on fire")

    runner = world.runner(world.settings(max_attempts=2, backoff_s=0))
    job = Broken(["t1"])
    first = await runner.run_job(job)
    assert first[0].error == "RuntimeError: disk on fire"
    assert [r.attempt for r in await runner.run_job(job)] == [2]
    assert await runner.run_job(job) == []
    world.clock.advance(seconds=60)
    assert [r.attempt for r in await runner.run_job(job)] == [1]


async def test_run_now_forces_a_run_settled_in_this_slot(world: World) -> None:
    job = CountingJob(["t1"])
    scheduler = JobScheduler(world.runner(), [job])
    await scheduler.run_now("count", force=False)
    await scheduler.run_now("count", force=False)
    await scheduler.run_now("count")
    assert job.ran == ["t1", "t1"]
    with pytest.raises(KeyError, match="no job called 'nope'"):
        await scheduler.run_now("nope")


async def test_runs_at_once_stay_within_the_jobs_own_limit(world: World) -> None:
    active, peak = [0], [0]

    class Tracked(CountingJob):
        async def run(self, target: str, ctx: RunContext) -> str:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
            await asyncio.sleep(0.1)
            active[0] -= 1
            return "done"

    records = await world.runner(world.settings(concurrency=2)).run_job(
        Tracked([f"t{i}" for i in range(6)])
    )
    assert len(records) == 6
    assert peak == [2]


async def test_a_run_stopped_by_shutdown_is_retried_at_once(world: World) -> None:
    runner = world.runner()
    slow = CountingJob(["t1"], hold=30)
    task = asyncio.create_task(runner.run_job(slow))
    async with asyncio.timeout(5):
        while True:
            state = await runner.history.state("count", "t1")
            if state is not None and state.status is RunStatus.RUNNING:
                break
            await asyncio.sleep(0.02)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    interrupted = await runner.history.runs("count")
    assert [(r.status, r.error) for r in interrupted] == [
        (RunStatus.FAILED, "interrupted (shutdown)")
    ]
    # The lease was released: another replica picks it up in the same slot.
    other = world.runner(store=await world.replica(), holder="other")
    retried = await other.run_job(CountingJob(["t1"]))
    assert [(r.status, r.attempt, r.holder) for r in retried] == [(RunStatus.OK, 2, "other")]
