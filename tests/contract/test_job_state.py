"""The jobs' state: run records, target states by compare-and-set, backoffs, checkpoints."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

from engine.audience import Scope
from engine.store.protocol import Store
from engine.store.state import (
    JobBackoff,
    JobCheckpoint,
    RunRecord,
    RunStatus,
    TargetState,
)
from tests.contract.conftest import OpenReplica
from tests.contract.records import BASE_TIME, OTHER_WS, WS


def run(
    run_id: str, job: str = "consolidate", minutes: float = 0, scope: Scope | None = None
) -> RunRecord:
    return RunRecord(
        id=run_id,
        job=job,
        target=f"{job}-target",
        workspace=WS,
        scope=scope,
        holder="replica-1",
        attempt=1,
        started_at=BASE_TIME + timedelta(minutes=minutes),
    )


def running(record: RunRecord, slot: int = 7) -> TargetState:
    return TargetState(
        slot, RunStatus.RUNNING, record.attempt, record.key, record.workspace, record.scope
    )


async def test_run_records_are_kept_newest_first_and_pruned(store: Store) -> None:
    first = run("r1", minutes=0, scope=Scope.workspace())
    second = run("r2", minutes=5, scope=Scope.dm("alice"))
    digest = run("r3", job="digest", minutes=2)
    for record in (first, second, digest):
        await store.jobs.save_run(record)
    done = replace(first, status=RunStatus.OK, ended_at=BASE_TIME + timedelta(minutes=1), tokens=90)
    await store.jobs.save_run(done)

    assert await store.jobs.run(first.key) == done
    assert await store.jobs.run("absent") is None
    assert await store.jobs.runs(None, 10) == [second, digest, done]
    assert await store.jobs.runs("consolidate", 10) == [second, done]
    assert await store.jobs.runs(None, 1) == [second]

    assert await store.jobs.prune("consolidate", 1) == 1
    assert await store.jobs.runs("consolidate", 10) == [second]
    assert await store.jobs.prune("consolidate", 1) == 0
    assert await store.jobs.runs("digest", 10) == [digest]


async def test_target_states_are_written_by_compare_and_set(store: Store) -> None:
    first, second = run("r1"), run("r2", minutes=1)
    assert await store.jobs.state("consolidate", "t") is None
    assert await store.jobs.put_state("consolidate", "t", running(first), None)
    assert not await store.jobs.put_state("consolidate", "t", running(second), None)
    assert await store.jobs.state("consolidate", "t") == running(first)

    settled = replace(
        running(first), status=RunStatus.FAILED, retry_at=BASE_TIME + timedelta(hours=1)
    )
    assert not await store.jobs.put_state("consolidate", "t", settled, second.key)
    assert await store.jobs.put_state("consolidate", "t", settled, first.key)
    assert await store.jobs.state("consolidate", "t") == settled
    assert await store.jobs.put_state("consolidate", "t", running(second, 8), first.key)
    assert await store.jobs.state("consolidate", "t") == running(second, 8)
    assert await store.jobs.state("digest", "t") is None


async def test_racing_claims_of_a_target_have_one_winner(
    store: Store, open_replica: OpenReplica
) -> None:
    other = await open_replica()
    previous = run("r0")
    await store.jobs.put_state(
        "hygiene", "t", replace(running(previous), status=RunStatus.OK), None
    )
    claims = [run(f"r{i}", minutes=i) for i in range(1, 7)]
    stores = [store, other] * 3
    won = await asyncio.gather(
        *(
            s.jobs.put_state("hygiene", "t", running(r), previous.key)
            for s, r in zip(stores, claims, strict=True)
        )
    )
    assert won.count(True) == 1
    winner = claims[won.index(True)]
    assert await other.jobs.state("hygiene", "t") == running(winner)


async def test_racing_first_claims_have_one_winner(store: Store, open_replica: OpenReplica) -> None:
    other = await open_replica()
    claims = [run(f"r{i}", minutes=i) for i in range(6)]
    stores = [store, other] * 3
    won = await asyncio.gather(
        *(
            s.jobs.put_state("digest", "t", running(r), None)
            for s, r in zip(stores, claims, strict=True)
        )
    )
    assert won.count(True) == 1
    assert await store.jobs.state("digest", "t") == running(claims[won.index(True)])


async def test_backoffs_are_set_replaced_and_cleared(store: Store) -> None:
    assert await store.jobs.backoff("digest") is None
    await store.jobs.set_backoff("digest", JobBackoff(1, BASE_TIME))
    later = JobBackoff(2, BASE_TIME + timedelta(minutes=10))
    await store.jobs.set_backoff("digest", later)
    assert await store.jobs.backoff("digest") == later
    assert await store.jobs.backoff("hygiene") is None
    await store.jobs.clear_backoff("digest")
    await store.jobs.clear_backoff("digest")
    assert await store.jobs.backoff("digest") is None


async def test_checkpoints_are_kept_per_job_and_target(store: Store) -> None:
    assert await store.jobs.checkpoint("consolidate", "a/T1/D1/") is None
    seq = JobCheckpoint(WS, Scope.dm("alice"), seq=42)
    at = JobCheckpoint(WS, Scope.workspace(), at=BASE_TIME)
    await store.jobs.save_checkpoint("consolidate", "a/T1/D1/", seq)
    await store.jobs.save_checkpoint("hygiene", "a/T1/D1/", at)
    assert await store.jobs.checkpoint("consolidate", "a/T1/D1/") == seq
    assert await store.jobs.checkpoint("hygiene", "a/T1/D1/") == at
    moved = replace(seq, seq=50)
    await store.jobs.save_checkpoint("consolidate", "a/T1/D1/", moved)
    assert await store.jobs.checkpoint("consolidate", "a/T1/D1/") == moved


async def test_forgetting_a_user_drops_the_jobs_records_of_their_dms(store: Store) -> None:
    alice, bob = Scope.dm("alice"), Scope.dm("bob")
    hers, his, public = run("r1", scope=alice), run("r2", scope=bob), run("r3", scope=None)
    elsewhere = replace(run("r4", minutes=1, scope=alice), workspace=OTHER_WS)
    for record in (hers, his, public, elsewhere):
        await store.jobs.save_run(record)
        await store.jobs.put_state(record.job, record.id, running(record), None)
        checkpoint = JobCheckpoint(record.workspace, record.scope or Scope.workspace(), seq=3)
        await store.jobs.save_checkpoint(record.job, record.id, checkpoint)

    assert await store.jobs.forget_user(WS, "alice") == 3
    assert await store.jobs.run(hers.key) is None
    assert await store.jobs.state(hers.job, hers.id) is None
    assert await store.jobs.checkpoint(hers.job, hers.id) is None
    for kept in (his, public, elsewhere):
        assert await store.jobs.run(kept.key) == kept
        assert await store.jobs.state(kept.job, kept.id) == running(kept)
        assert await store.jobs.checkpoint(kept.job, kept.id) is not None
