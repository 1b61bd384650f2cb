"""Tool calls waiting for approval in ``approvals``, one document each, keyed by id; decided
by an update guarded on the pending status."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pymongo import ASCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from engine.store.approvals import ApprovalRequest, ApprovalStatus
from engine.store.codec import encode_datetime
from engine.store.mongo._documents import (
    Collection,
    Document,
    as_document,
    as_record,
    delete_in,
    find_by_id,
)


class MongoApprovals:
    def __init__(self, collection: Collection) -> None:
        self._approvals = collection

    async def put(self, request: ApprovalRequest) -> bool:
        try:
            await self._approvals.insert_one(as_document(request))
        except DuplicateKeyError:
            return False
        return True

    async def get(self, request_id: str) -> ApprovalRequest | None:
        return await find_by_id(self._approvals, ApprovalRequest, request_id)

    async def decide(
        self, request_id: str, status: ApprovalStatus, by: str, at: datetime
    ) -> ApprovalRequest | None:
        doc = await self._approvals.find_one_and_update(
            {"_id": request_id, "status": ApprovalStatus.PENDING.value},
            {"$set": {"status": status.value, "decided_by": by, "decided_at": encode_datetime(at)}},
            return_document=ReturnDocument.AFTER,
        )
        return None if doc is None else as_record(ApprovalRequest, doc)

    async def keep_result(self, request_id: str, result: str) -> None:
        await self._approvals.update_one({"_id": request_id}, {"$set": {"result": result}})

    async def mark_resumed(self, request_id: str, at: datetime) -> None:
        at_text = encode_datetime(at)
        await self._approvals.update_one({"_id": request_id}, {"$set": {"resumed_at": at_text}})

    async def unresumed(self, decided_before: datetime, limit: int) -> list[ApprovalRequest]:
        query = {
            "resumed_at": None,
            "decided_at": {"$ne": None, "$lte": encode_datetime(decided_before)},
        }
        cursor = self._approvals.find(query).sort("decided_at", ASCENDING).limit(limit)
        return [as_record(ApprovalRequest, doc) async for doc in cursor]

    async def delete_sources(self, sources: Sequence[str]) -> int:
        return await delete_in(self._approvals, "source", sources)

    async def of_user(self, workspace: str, user: str) -> list[ApprovalRequest]:
        cursor = self._approvals.find(_of_user(workspace, user))
        found = [as_record(ApprovalRequest, doc) async for doc in cursor]
        return sorted(found, key=lambda r: (r.created_at, r.id))

    async def delete_user(self, workspace: str, user: str) -> int:
        return (await self._approvals.delete_many(_of_user(workspace, user))).deleted_count

    async def overdue(self, now: datetime, limit: int) -> list[ApprovalRequest]:
        query = {
            "status": ApprovalStatus.PENDING.value,
            "expires_at": {"$lte": encode_datetime(now)},
        }
        cursor = self._approvals.find(query).sort("expires_at", ASCENDING).limit(limit)
        return [as_record(ApprovalRequest, doc) async for doc in cursor]


def _of_user(workspace: str, user: str) -> Document:
    """The requests ``user`` made in ``workspace``, and those made in their DMs."""
    in_their_dm = {"inbound.audience.kind": "dm", "inbound.audience.user": user}
    return {"workspace": workspace, "$or": [{"requester": user}, in_their_dm]}
