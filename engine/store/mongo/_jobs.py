"""The jobs' state: ``job_runs`` (keyed by run key), ``job_targets`` (compare-and-set on the
run), ``job_backoffs`` and ``job_checkpoints``."""

from __future__ import annotations

import builtins

from pymongo import DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from engine.audience import Scope
from engine.store.codec import decode, encode
from engine.store.mongo._documents import Document, find_record, replace_or_insert
from engine.store.state import JobBackoff, JobCheckpoint, RunRecord, TargetState

_NO_ID = {"_id": False}


class MongoJobState:
    def __init__(self, database: AsyncDatabase[Document]) -> None:
        self._runs = database["job_runs"]
        self._targets = database["job_targets"]
        self._backoffs = database["job_backoffs"]
        self._checkpoints = database["job_checkpoints"]

    async def save_run(self, record: RunRecord) -> None:
        await replace_or_insert(self._runs, {"_id": record.key}, encode(record))

    async def run(self, key: str) -> RunRecord | None:
        return await find_record(self._runs, RunRecord, {"_id": key})

    async def runs(self, job: str | None, limit: int) -> builtins.list[RunRecord]:
        if limit <= 0:
            return []
        query: Document = {} if job is None else {"job": job}
        cursor = (
            self._runs.find(query, _NO_ID)
            .sort([("started_at", DESCENDING), ("_id", DESCENDING)])
            .limit(limit)
        )
        return [decode(RunRecord, doc) async for doc in cursor]

    async def prune(self, job: str, keep: int) -> int:
        cursor = self._runs.find({"job": job}, {"_id": True}).sort("_id", DESCENDING)
        stale = [doc["_id"] async for doc in cursor][max(0, keep) :]
        if not stale:
            return 0
        result = await self._runs.delete_many({"_id": {"$in": stale}})
        return result.deleted_count

    async def state(self, job: str, target: str) -> TargetState | None:
        return await find_record(self._targets, TargetState, {"job": job, "target": target})

    async def put_state(
        self, job: str, target: str, state: TargetState, expected_run: str | None
    ) -> bool:
        key = {"job": job, "target": target}
        doc = key | encode(state)
        if expected_run is None:
            try:
                await self._targets.insert_one(doc)
            except DuplicateKeyError:
                return False
            return True
        result = await self._targets.replace_one(key | {"run_key": expected_run}, doc)
        return result.matched_count == 1

    async def backoff(self, job: str) -> JobBackoff | None:
        return await find_record(self._backoffs, JobBackoff, {"_id": job})

    async def set_backoff(self, job: str, backoff: JobBackoff) -> None:
        await replace_or_insert(self._backoffs, {"_id": job}, encode(backoff))

    async def clear_backoff(self, job: str) -> None:
        await self._backoffs.delete_one({"_id": job})

    async def checkpoint(self, job: str, key: str) -> JobCheckpoint | None:
        return await find_record(self._checkpoints, JobCheckpoint, {"job": job, "key": key})

    async def save_checkpoint(self, job: str, key: str, checkpoint: JobCheckpoint) -> None:
        where = {"job": job, "key": key}
        await replace_or_insert(self._checkpoints, where, where | encode(checkpoint))

    async def forget_user(self, workspace: str, user: str) -> int:
        private = {"workspace": workspace, "scope": str(Scope.dm(user))}
        removed = 0
        for collection in (self._runs, self._targets, self._checkpoints):
            result = await collection.delete_many(private)
            removed += result.deleted_count
        return removed
