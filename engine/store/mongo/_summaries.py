"""Conversation summaries in ``summaries``, one per conversation, compare-and-set by version."""

from __future__ import annotations

from pymongo.errors import DuplicateKeyError

from engine.audience import Scope
from engine.records import ConversationKey, Summary
from engine.store.codec import encode
from engine.store.mongo._documents import Collection, find_record
from engine.store.mongo._filters import conversation_query


class MongoSummaries:
    def __init__(self, collection: Collection) -> None:
        self._summaries = collection

    async def get(self, conversation: ConversationKey) -> Summary | None:
        return await find_record(self._summaries, Summary, conversation_query(conversation))

    async def put(self, summary: Summary, expected_version: int) -> bool:
        doc = encode(summary) | {"version": expected_version + 1}
        if expected_version == 0:
            try:
                await self._summaries.insert_one(doc)
            except DuplicateKeyError:
                return False
            return True
        key = conversation_query(summary.conversation)
        result = await self._summaries.update_one(
            key | {"version": expected_version}, {"$set": doc}
        )
        return result.matched_count == 1

    async def delete_user(self, workspace: str, user: str) -> int:
        result = await self._summaries.delete_many(
            {"workspace": workspace, "scope": str(Scope.dm(user))}
        )
        return result.deleted_count
