"""The outbox: replies kept until the platform has them, one per (inbox item, index)."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from pymongo import ASCENDING, ReturnDocument

from engine.records import Outbound, next_seq, utcnow
from engine.store.codec import decode, decode_datetime, encode, encode_datetime
from engine.store.mongo._documents import Collection, Document
from engine.store.mongo._queries import ignore_duplicates
from engine.store.queues import DeliveryClaim, OutboxEntry, OutboxStatus

_PENDING = OutboxStatus.PENDING.value
#: ``next_attempt_at`` of a reply due at once: sorts before every timestamp.
_NOW = ""
#: ``claimed_until`` of a reply nobody delivers.
_UNCLAIMED = datetime(1970, 1, 1, tzinfo=UTC)
_CLAIM_ENDS = {"claimed_by": "", "claimed_until": _UNCLAIMED}


def _claim_of(claim: DeliveryClaim | None) -> Document:
    if claim is None:
        return _CLAIM_ENDS
    return {"claimed_by": claim.holder, "claimed_until": utcnow() + timedelta(seconds=claim.ttl)}


def _entry_document(reply: Outbound, claim: DeliveryClaim | None) -> Document:
    return {
        "_id": reply.id,
        "reply": encode(reply),
        "inbox_id": reply.inbox_id,
        "index": reply.index,
        "seq": next_seq(),
        "status": _PENDING,
        "attempts": 0,
        "next_attempt_at": _NOW,
        "platform_ref": "",
        "error": "",
        **_claim_of(claim),
    }


def _entry(doc: Document) -> OutboxEntry:
    next_attempt: str = doc.get("next_attempt_at", _NOW)
    return OutboxEntry(
        reply=decode(Outbound, doc["reply"]),
        status=OutboxStatus(doc["status"]),
        attempts=int(doc.get("attempts", 0)),
        next_attempt_at=decode_datetime(next_attempt) if next_attempt else None,
        platform_ref=doc.get("platform_ref", ""),
        error=doc.get("error", ""),
    )


class MongoOutbox:
    def __init__(self, collection: Collection) -> None:
        self._entries = collection

    async def put(self, replies: Sequence[Outbound], claim: DeliveryClaim | None = None) -> None:
        if replies:
            with ignore_duplicates():
                await self._entries.insert_many(
                    [_entry_document(r, claim) for r in replies], ordered=False
                )

    async def for_inbox(self, inbox_id: str) -> builtins.list[OutboxEntry]:
        cursor = self._entries.find({"inbox_id": inbox_id}).sort("index", ASCENDING)
        return [_entry(doc) async for doc in cursor]

    async def due(self, now: datetime, limit: int) -> builtins.list[OutboxEntry]:
        if limit <= 0:
            return []
        cursor = (
            self._entries.find(
                {"status": _PENDING, "next_attempt_at": {"$lte": encode_datetime(now)}}
            )
            .sort("seq", ASCENDING)
            .limit(limit)
        )
        return [_entry(doc) async for doc in cursor]

    async def claim(self, reply_id: str, holder: str, ttl: float) -> OutboxEntry | None:
        now = utcnow()
        doc = await self._entries.find_one_and_update(
            {
                "_id": reply_id,
                "status": _PENDING,
                "$or": [
                    {"claimed_by": holder},
                    {"claimed_until": {"$lte": now}},
                    {"claimed_until": {"$exists": False}},
                ],
            },
            {"$set": {"claimed_by": holder, "claimed_until": now + timedelta(seconds=ttl)}},
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:
            doc = await self._entries.find_one({"_id": reply_id, "status": {"$ne": _PENDING}})
        return None if doc is None else _entry(doc)

    async def release(self, reply_id: str, holder: str) -> None:
        await self._entries.update_one(
            {"_id": reply_id, "claimed_by": holder}, {"$set": _CLAIM_ENDS}
        )

    async def mark_delivered(self, reply_id: str, platform_ref: str) -> None:
        await self._entries.update_one(
            {"_id": reply_id},
            {"$set": {"status": OutboxStatus.DELIVERED.value, "platform_ref": platform_ref}},
        )

    async def redact(self, inbox_ids: Sequence[str]) -> int:
        if not inbox_ids:
            return 0
        result = await self._entries.update_many(
            {"inbox_id": {"$in": list(inbox_ids)}, "status": OutboxStatus.DELIVERED.value},
            {"$set": {"reply.text": ""}},
        )
        return int(result.modified_count)

    async def retry_later(self, reply_id: str, at: datetime, error: str) -> None:
        await self._entries.update_one(
            {"_id": reply_id, "status": _PENDING},
            {
                "$set": {"next_attempt_at": encode_datetime(at), "error": error, **_CLAIM_ENDS},
                "$inc": {"attempts": 1},
            },
        )

    async def mark_undeliverable(self, reply_id: str, error: str) -> None:
        await self._entries.update_one(
            {"_id": reply_id, "status": _PENDING},
            {
                "$set": {"status": OutboxStatus.UNDELIVERABLE.value, "error": error},
                "$inc": {"attempts": 1},
            },
        )
