"""The jobs' state: run records, target states (compare-and-set on the run), backoffs and
checkpoints."""

from __future__ import annotations

import builtins
import sqlite3

from engine.audience import Scope
from engine.store.sqlite._columns import Columns
from engine.store.sqlite._database import Database, write
from engine.store.sqlite._table import RecordTable
from engine.store.state import JobBackoff, JobCheckpoint, RunRecord, TargetState

_TARGET = "job = ? AND target = ?"
_CHECKPOINT = "job = ? AND key = ?"


class SQLiteJobState:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._runs = RecordTable(db, "job_runs", Columns(RunRecord), key="key")
        self._targets = RecordTable(db, "job_targets", Columns(TargetState))
        self._backoffs = RecordTable(db, "job_backoffs", Columns(JobBackoff), key="job")
        self._checkpoints = RecordTable(db, "job_checkpoints", Columns(JobCheckpoint))

    async def save_run(self, record: RunRecord) -> None:
        await self._runs.add(record, {"key": record.key}, replace=True)

    async def run(self, key: str) -> RunRecord | None:
        return await self._runs.fetch(key)

    async def runs(self, job: str | None, limit: int) -> builtins.list[RunRecord]:
        where, params = ("job = ?", (job,)) if job is not None else ("true", ())
        return await self._runs.fetch_all(
            where, (*params, limit), "ORDER BY started_at DESC, key DESC LIMIT ?"
        )

    async def prune(self, job: str, keep: int) -> int:
        return await self._runs.delete_where(
            "job = ? AND key NOT IN "
            "(SELECT key FROM job_runs WHERE job = ? ORDER BY key DESC LIMIT ?)",
            (job, job, max(0, keep)),
        )

    async def state(self, job: str, target: str) -> TargetState | None:
        return await self._targets.fetch_where(_TARGET, (job, target))

    async def put_state(
        self, job: str, target: str, state: TargetState, expected_run: str | None
    ) -> bool:
        if expected_run is None:
            return await self._targets.add(state, {"job": job, "target": target})
        condition = f"{_TARGET} AND run_key = ?"
        return await self._targets.overwrite(state, condition, (job, target, expected_run))

    async def backoff(self, job: str) -> JobBackoff | None:
        return await self._backoffs.fetch(job)

    async def set_backoff(self, job: str, backoff: JobBackoff) -> None:
        await self._backoffs.add(backoff, {"job": job}, replace=True)

    async def clear_backoff(self, job: str) -> None:
        await self._backoffs.delete_where("job = ?", (job,))

    async def checkpoint(self, job: str, key: str) -> JobCheckpoint | None:
        return await self._checkpoints.fetch_where(_CHECKPOINT, (job, key))

    async def save_checkpoint(self, job: str, key: str, checkpoint: JobCheckpoint) -> None:
        await self._checkpoints.add(checkpoint, {"job": job, "key": key}, replace=True)

    async def forget_user(self, workspace: str, user: str) -> int:
        private = (workspace, str(Scope.dm(user)))

        def forget(conn: sqlite3.Connection) -> int:
            with write(conn):
                return sum(
                    conn.execute(
                        f"DELETE FROM {table} WHERE workspace = ? AND scope = ?", private
                    ).rowcount
                    for table in ("job_runs", "job_targets", "job_checkpoints")
                )

        return await self._db.run(forget)
