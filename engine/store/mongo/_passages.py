"""Archival memory in the ``passages`` collection, searched by meaning and by words."""

from __future__ import annotations

import builtins
from collections.abc import Sequence

from pymongo import DESCENDING

from engine.audience import Scope
from engine.records import Passage, next_seq
from engine.store.mongo._documents import Collection, Document, as_document, with_created_date
from engine.store.mongo._queries import MemoryCollection
from engine.store.protocol import RecordFilter

#: Insertion order, the tie-breaker of "newest first" between equal timestamps.
_INSERTED_SEQ = "inserted_seq"
_NEWEST_FIRST = [("created_at", DESCENDING), (_INSERTED_SEQ, DESCENDING)]


def _document(passage: Passage) -> Document:
    doc = with_created_date(as_document(passage), passage.created_at)
    doc[_INSERTED_SEQ] = next_seq()
    if doc["embedding"] is None:
        # Absent rather than null, so the vector index and the fallback skip it alike.
        del doc["embedding"]
    return doc


class MongoPassages:
    def __init__(self, collection: Collection) -> None:
        self._memory = MemoryCollection(collection, Passage, messages=False)
        self._passages = collection
        self.search_text = self._memory.search_text
        self.search_vector = self._memory.search_vector
        self.count = self._memory.count

    async def insert(self, passages: Sequence[Passage]) -> None:
        await self._memory.insert([_document(p) for p in passages])

    async def list(
        self, where: RecordFilter, limit: int, offset: int = 0
    ) -> builtins.list[Passage]:
        return await self._memory.listed(where, _NEWEST_FIRST, limit, offset)

    async def tag_counts(self, where: RecordFilter) -> dict[str, int]:
        pipeline: builtins.list[Document] = [
            {"$match": self._memory.visible(where)},
            {"$unwind": "$tags"},
            {"$group": {"_id": "$tags", "count": {"$sum": 1}}},
        ]
        cursor = await self._passages.aggregate(pipeline)
        return {str(doc["_id"]): int(doc["count"]) async for doc in cursor}

    async def get(self, passage_id: str) -> Passage | None:
        doc = await self._passages.find_one({"_id": passage_id})
        return None if doc is None else self._memory.record(doc)

    async def delete(self, passage_ids: Sequence[str]) -> int:
        if not passage_ids:
            return 0
        return await self._memory.delete({"_id": {"$in": list(passage_ids)}})

    async def delete_user(self, workspace: str, user: str) -> int:
        return await self._memory.delete(
            {"workspace": workspace, "$or": [{"users": user}, {"scope": str(Scope.dm(user))}]}
        )
