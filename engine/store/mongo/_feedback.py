"""Ratings of replies in ``feedback``, one document per person per reply."""

from __future__ import annotations

from collections.abc import Sequence

from pymongo import ASCENDING, DESCENDING

from engine.store.codec import decode, encode
from engine.store.feedback import Feedback
from engine.store.mongo._documents import Collection, Document, replace_or_insert

_NO_ID = {"_id": False}


class MongoFeedback:
    def __init__(self, collection: Collection) -> None:
        self._feedback = collection

    async def put(self, feedback: Feedback) -> None:
        key = {"_id": f"{feedback.reply_id}/{feedback.user}"}
        await replace_or_insert(self._feedback, key, encode(feedback))

    async def for_turns(self, turn_ids: Sequence[str]) -> list[Feedback]:
        if not turn_ids:
            return []
        cursor = self._feedback.find({"turn_id": {"$in": list(turn_ids)}}, _NO_ID)
        return [decode(Feedback, doc) async for doc in cursor.sort("at", ASCENDING)]

    async def recent(self, limit: int, workspace: str | None = None) -> list[Feedback]:
        if limit <= 0:
            return []
        query: Document = {"workspace": workspace} if workspace else {}
        cursor = self._feedback.find(query, _NO_ID).sort("at", DESCENDING).limit(limit)
        return [decode(Feedback, doc) async for doc in cursor]

    async def of_user(self, workspace: str, user: str) -> list[Feedback]:
        query = {"workspace": workspace, "user": user}
        cursor = self._feedback.find(query, _NO_ID).sort("at", DESCENDING)
        return [decode(Feedback, doc) async for doc in cursor]

    async def delete_user(self, workspace: str, user: str) -> int:
        result = await self._feedback.delete_many({"workspace": workspace, "user": user})
        return result.deleted_count
