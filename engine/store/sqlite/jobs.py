"""The jobs' state: run records, target states (compare-and-set on the run), backoffs and
checkpoints."""

from __future__ import annotations

import builtins
import sqlite3

from engine.audience import Scope
from engine.store.sqlite._columns import Columns
from engine.store.sqlite._database import Database, write
from engine.store.state import JobBackoff, JobCheckpoint, RunRecord, TargetState

RUNS = Columns(RunRecord)
STATES = Columns(TargetState)
BACKOFFS = Columns(JobBackoff)
CHECKPOINTS = Columns(JobCheckpoint)


class SQLiteJobState:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def save_run(self, record: RunRecord) -> None:
        row = (*RUNS.row(record), record.key)
        sql = f"INSERT OR REPLACE INTO job_runs ({RUNS.listed()}, key) VALUES ({RUNS.slots}, ?)"
        await self._db.run(lambda c: c.execute(sql, row))

    async def run(self, key: str) -> RunRecord | None:
        sql = f"SELECT {RUNS.listed()} FROM job_runs WHERE key = ?"
        row = await self._db.run(lambda c: c.execute(sql, (key,)).fetchone())
        return None if row is None else RUNS.record(row)

    async def runs(self, job: str | None, limit: int) -> builtins.list[RunRecord]:
        where, params = ("WHERE job = ?", (job,)) if job is not None else ("", ())
        sql = (
            f"SELECT {RUNS.listed()} FROM job_runs {where} "
            "ORDER BY started_at DESC, key DESC LIMIT ?"
        )
        rows = await self._db.run(lambda c: c.execute(sql, (*params, limit)).fetchall())
        return [RUNS.record(row) for row in rows]

    async def prune(self, job: str, keep: int) -> int:
        sql = (
            "DELETE FROM job_runs WHERE job = ? AND key NOT IN "
            "(SELECT key FROM job_runs WHERE job = ? ORDER BY key DESC LIMIT ?)"
        )
        dropped: int = await self._db.run(
            lambda c: c.execute(sql, (job, job, max(0, keep))).rowcount
        )
        return dropped

    async def state(self, job: str, target: str) -> TargetState | None:
        sql = f"SELECT {STATES.listed()} FROM job_targets WHERE job = ? AND target = ?"
        row = await self._db.run(lambda c: c.execute(sql, (job, target)).fetchone())
        return None if row is None else STATES.record(row)

    async def put_state(
        self, job: str, target: str, state: TargetState, expected_run: str | None
    ) -> bool:
        row = STATES.row(state)
        if expected_run is None:
            sql = (
                f"INSERT OR IGNORE INTO job_targets ({STATES.listed()}, job, target) "
                f"VALUES ({STATES.slots}, ?, ?)"
            )
            params: tuple[object, ...] = (*row, job, target)
        else:
            assignments = ", ".join(f"{name} = ?" for name in STATES.names)
            sql = (
                f"UPDATE job_targets SET {assignments} WHERE job = ? AND target = ? AND run_key = ?"
            )
            params = (*row, job, target, expected_run)
        changed: int = await self._db.run(lambda c: c.execute(sql, params).rowcount)
        return changed > 0

    async def backoff(self, job: str) -> JobBackoff | None:
        sql = f"SELECT {BACKOFFS.listed()} FROM job_backoffs WHERE job = ?"
        row = await self._db.run(lambda c: c.execute(sql, (job,)).fetchone())
        return None if row is None else BACKOFFS.record(row)

    async def set_backoff(self, job: str, backoff: JobBackoff) -> None:
        row = (*BACKOFFS.row(backoff), job)
        sql = (
            f"INSERT OR REPLACE INTO job_backoffs ({BACKOFFS.listed()}, job) "
            f"VALUES ({BACKOFFS.slots}, ?)"
        )
        await self._db.run(lambda c: c.execute(sql, row))

    async def clear_backoff(self, job: str) -> None:
        await self._db.run(lambda c: c.execute("DELETE FROM job_backoffs WHERE job = ?", (job,)))

    async def checkpoint(self, job: str, key: str) -> JobCheckpoint | None:
        sql = f"SELECT {CHECKPOINTS.listed()} FROM job_checkpoints WHERE job = ? AND key = ?"
        row = await self._db.run(lambda c: c.execute(sql, (job, key)).fetchone())
        return None if row is None else CHECKPOINTS.record(row)

    async def save_checkpoint(self, job: str, key: str, checkpoint: JobCheckpoint) -> None:
        row = (*CHECKPOINTS.row(checkpoint), job, key)
        sql = (
            f"INSERT OR REPLACE INTO job_checkpoints ({CHECKPOINTS.listed()}, job, key) "
            f"VALUES ({CHECKPOINTS.slots}, ?, ?)"
        )
        await self._db.run(lambda c: c.execute(sql, row))

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
