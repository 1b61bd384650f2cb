"""What the jobs did: one record per run, and the state of each (job, target) between runs.

Both live in the store's job state, so every replica and the CLI see the same history. A
target's state is written by compare-and-set on the run that last wrote it: a run claims a
target only if no other run claimed it since it was read, and settles it only if it still
holds it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from engine import (
    SETTLED,
    JobBackoff,
    JobStateStore,
    RunRecord,
    RunStatus,
    TargetState,
)

__all__ = ["SETTLED", "JobBackoff", "JobHistory", "RunRecord", "RunStatus", "TargetState"]


class JobHistory:
    """Run records, target states and backoffs, over the store's job state."""

    def __init__(self, jobs: JobStateStore) -> None:
        self._jobs = jobs

    async def state(self, job: str, target: str) -> TargetState | None:
        return await self._jobs.state(job, target)

    async def claim(self, record: RunRecord, slot: int, previous: TargetState | None) -> bool:
        """Mark the target running under ``record``, unless another run claimed it since
        ``previous`` was read."""
        running = TargetState(
            slot, RunStatus.RUNNING, record.attempt, record.key, record.workspace, record.scope
        )
        expected = previous.run_key if previous is not None else None
        return await self._jobs.put_state(record.job, record.target, running, expected)

    async def settle(self, record: RunRecord, state: TargetState) -> bool:
        """Record how ``record``'s run left its target; False when another run holds it now."""
        return await self._jobs.put_state(record.job, record.target, state, record.key)

    async def save_run(self, record: RunRecord) -> None:
        await self._jobs.save_run(record)

    async def run(self, key: str) -> RunRecord | None:
        return await self._jobs.run(key)

    async def mark_crashed(self, state: TargetState, now: datetime) -> None:
        """Close the record of a run whose process died (its lease expired while running)."""
        record = await self.run(state.run_key)
        if record is not None and record.status is RunStatus.RUNNING:
            await self.save_run(
                replace(record, status=RunStatus.CRASHED, ended_at=now, error="lease expired")
            )

    async def runs(self, job: str | None = None, limit: int = 50) -> list[RunRecord]:
        """Recorded runs, newest first."""
        return await self._jobs.runs(job, limit)

    async def prune(self, job: str, keep: int) -> int:
        """Drop a job's oldest records beyond the newest ``keep``."""
        return await self._jobs.prune(job, keep)

    async def backoff(self, job: str) -> JobBackoff | None:
        return await self._jobs.backoff(job)

    async def set_backoff(self, job: str, backoff: JobBackoff) -> None:
        await self._jobs.set_backoff(job, backoff)

    async def clear_backoff(self, job: str) -> None:
        await self._jobs.clear_backoff(job)
