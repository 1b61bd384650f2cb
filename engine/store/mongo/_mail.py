"""Agent-to-agent messages in ``agent_mail``; the answer to a waiting sender is set once."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from engine.audience import AudienceKind
from engine.store.lineage import batches
from engine.store.mongo._documents import Collection, as_document, as_record, find_by_id
from engine.store.state import MailRecord


class MongoMail:
    def __init__(self, collection: Collection) -> None:
        self._records = collection

    async def put(self, record: MailRecord) -> None:
        with contextlib.suppress(DuplicateKeyError):
            await self._records.insert_one(as_document(record))

    async def get(self, message_id: str) -> MailRecord | None:
        return await find_by_id(self._records, MailRecord, message_id)

    async def answer(self, message_id: str, reply_id: str) -> MailRecord | None:
        doc = await self._records.find_one_and_update(
            {"_id": message_id, "answered_by": ""},
            {"$set": {"answered_by": reply_id}},
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:  # answered already, or no such message
            return await self.get(message_id)
        return as_record(MailRecord, doc)

    async def delete_user(self, workspace: str, user: str) -> int:
        result = await self._records.delete_many(
            {
                "audience.workspace": workspace,
                "audience.kind": AudienceKind.DM.value,
                "audience.user": user,
            }
        )
        return result.deleted_count

    async def delete(self, message_ids: Sequence[str]) -> int:
        removed = 0
        for batch in batches(message_ids):
            removed += (
                await self._records.delete_many({"_id": {"$in": list(batch)}})
            ).deleted_count
        return removed
