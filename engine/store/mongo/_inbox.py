"""The durable inbox: accepted platform events, deduplicated by unique indexes.

Two unique indexes collapse redeliveries to one agent: (platform, agent_id, event_id) for
retries of one event, and (platform, agent_id, channel, message_ref, kind) for one message
delivered through two event types. Each agent a message addresses keeps its own item.
"""

from __future__ import annotations

import builtins
import json
import re
from collections.abc import Sequence
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from engine.records import JSON, utcnow
from engine.store.codec import encode_datetime
from engine.store.forget_marks import MarkedItem
from engine.store.inbox_keys import dedupe_keys
from engine.store.lineage import batches
from engine.store.mongo._documents import (
    Collection,
    Document,
    as_document,
    as_record,
    find_by_id,
)
from engine.store.mongo._journal import OUTCOME
from engine.store.queues import InboxItem, InboxStatus

_PENDING = InboxStatus.PENDING.value
#: The forget marks an item carries (``engine.store.forget_marks``), absent when none.
_MARKS = "forgotten"


class MongoInbox:
    def __init__(self, items: Collection, rejected: Collection) -> None:
        self._items = items
        self._rejected = rejected

    async def put(self, item: InboxItem) -> bool:
        try:
            await self._items.insert_one(as_document(item) | dedupe_keys(item.inbound))
        except DuplicateKeyError:
            return False
        return True

    async def pending_conversations(self, limit: int) -> builtins.list[str]:
        if limit <= 0:
            return []
        pipeline: builtins.list[Document] = [
            {"$match": {"status": _PENDING}},
            {"$group": {"_id": "$conversation", "first": {"$min": "$seq"}}},
            {"$sort": {"first": ASCENDING, "_id": ASCENDING}},
            {"$limit": limit},
        ]
        cursor = await self._items.aggregate(pipeline)
        return [str(doc["_id"]) async for doc in cursor]

    async def pending(self, conversation: str, limit: int) -> builtins.list[InboxItem]:
        if limit <= 0:
            return []
        cursor = (
            self._items.find({"status": _PENDING, "conversation": conversation})
            .sort("seq", ASCENDING)
            .limit(limit)
        )
        return [as_record(InboxItem, doc) async for doc in cursor]

    async def mark(self, item_id: str, status: InboxStatus, error: str = "") -> None:
        await self._items.update_one(
            {"_id": item_id}, {"$set": {"status": status.value, "error": error}}
        )

    async def mark_all(
        self, item_ids: Sequence[str], status: InboxStatus, error: str, attempt: int = 0
    ) -> tuple[str, ...]:
        """Mark a batch's items, the first one last (a pending first item means the batch's
        outcome is still to be applied), with the ``attempt`` that closed them on the first,
        which drops the outcome journalled on it; returns the forget marks the first carries
        as it is marked (a forget marks every pending item before it looks for what to
        remove, so one that missed the turn's writes left its mark here)."""
        update: Document = {"$set": {"status": status.value, "error": error}}
        if len(item_ids) > 1:
            await self._items.update_many({"_id": {"$in": list(item_ids[1:])}}, update)
        update["$unset"] = {OUTCOME: ""}
        if attempt:
            update["$max"] = {"attempts": attempt}
        if not item_ids:
            return ()
        head = await self._items.find_one_and_update(
            {"_id": item_ids[0]}, update, projection={_MARKS: True}
        )
        return tuple(head.get(_MARKS, ())) if head is not None else ()

    async def mark_forgotten(self, workspace: str, mark: str) -> int:
        result = await self._items.update_many(
            {"status": _PENDING, "inbound.audience.workspace": workspace},
            {"$addToSet": {_MARKS: mark}},
        )
        return result.modified_count

    async def marked(self, limit: int) -> builtins.list[MarkedItem]:
        cursor = self._items.find(
            {_MARKS: {"$exists": True}, "status": {"$ne": _PENDING}},
            projection={_MARKS: True},
        ).limit(limit)
        return [MarkedItem(str(doc["_id"]), tuple(doc[_MARKS])) async for doc in cursor]

    async def clear_marks(self, item_ids: Sequence[str]) -> None:
        for batch in batches(item_ids):
            await self._items.update_many({"_id": {"$in": list(batch)}}, {"$unset": {_MARKS: ""}})

    async def record_attempt(self, item_id: str) -> int:
        doc = await self._items.find_one_and_update(
            {"_id": item_id},
            {"$inc": {"attempts": 1}},
            projection={"attempts": True},
            return_document=ReturnDocument.AFTER,
        )
        return 0 if doc is None else int(doc["attempts"])

    async def record_failure(self, item_id: str, error: str) -> None:
        await self._items.update_one(
            {"_id": item_id}, {"$set": {"error": error}, "$inc": {"attempts": 1}}
        )

    async def get(self, item_id: str) -> InboxItem | None:
        return await find_by_id(self._items, InboxItem, item_id)

    async def depth(self) -> int:
        return await self._items.count_documents({"status": _PENDING})

    async def put_rejected(self, platform: str, raw: JSON, error: str) -> None:
        now = utcnow()
        # The raw event is kept as JSON text: platform payloads may hold keys MongoDB forbids.
        await self._rejected.insert_one(
            {
                "platform": platform,
                "raw": json.dumps(raw, default=str),
                "error": error,
                "received_at": encode_datetime(now),
                "received_date": now,
            }
        )

    async def redact_user(self, workspace: str, user: str) -> builtins.list[str]:
        said = {
            "status": {"$ne": _PENDING},
            "inbound.audience.workspace": workspace,
            "$or": [
                {"inbound.author.id": user},
                {"inbound.audience.kind": "dm", "inbound.audience.user": user},
            ],
        }
        return await self._redact(said)

    async def forget_rejected(self, user: str) -> int:
        named = {"raw": {"$regex": re.escape(json.dumps(user))}}
        return (await self._rejected.delete_many(named)).deleted_count

    async def redact(self, item_ids: Sequence[str]) -> builtins.list[str]:
        redacted: builtins.list[str] = []
        for batch in batches(item_ids):
            redacted += await self._redact(
                {"status": {"$ne": _PENDING}, "_id": {"$in": list(batch)}}
            )
        return redacted

    async def _redact(self, query: Document) -> builtins.list[str]:
        ids = [str(doc["_id"]) async for doc in self._items.find(query, projection={"_id": True})]
        if ids:
            await self._items.update_many(
                {"_id": {"$in": ids}},
                {"$set": {"inbound.text": "", "inbound.attachments": []}},
            )
        return ids

    async def rejected(self, limit: int) -> builtins.list[JSON]:
        if limit <= 0:
            return []
        cursor = (
            self._rejected.find()
            .sort([("received_date", DESCENDING), ("_id", DESCENDING)])
            .limit(limit)
        )
        return [_rejected(doc) async for doc in cursor]


def _rejected(doc: Document) -> JSON:
    raw: Any = json.loads(doc["raw"])
    return {
        "platform": doc["platform"],
        "raw": raw,
        "error": doc["error"],
        "received_at": doc["received_at"],
    }
