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


class MongoPassages(MemoryCollection[Passage]):
    def __init__(self, collection: Collection) -> None:
        super().__init__(collection, Passage, messages=False)

    async def insert(self, passages: Sequence[Passage]) -> None:
        await self.insert_new([_document(p) for p in passages])

    async def list(
        self, where: RecordFilter, limit: int, offset: int = 0
    ) -> builtins.list[Passage]:
        return await self.listed(where, _NEWEST_FIRST, limit, offset)

    async def tag_counts(self, where: RecordFilter) -> dict[str, int]:
        pipeline: builtins.list[Document] = [
            {"$match": self.visible(where)},
            {"$unwind": "$tags"},
            {"$group": {"_id": "$tags", "count": {"$sum": 1}}},
        ]
        cursor = await self.collection.aggregate(pipeline)
        return {str(doc["_id"]): int(doc["count"]) async for doc in cursor}

    async def get(self, passage_id: str) -> Passage | None:
        doc = await self.collection.find_one({"_id": passage_id})
        return None if doc is None else self.record(doc)

    async def delete(self, passage_ids: Sequence[str]) -> int:
        if not passage_ids:
            return 0
        return await self.delete_where({"_id": {"$in": list(passage_ids)}})

    async def delete_user(self, workspace: str, user: str) -> int:
        return await self.delete_where(_about_user(workspace, user))

    async def ids_of_user(self, workspace: str, user: str) -> builtins.list[str]:
        cursor = self.collection.find(_about_user(workspace, user), {"_id": True})
        return [str(doc["_id"]) async for doc in cursor]


def _about_user(workspace: str, user: str) -> Document:
    return {"workspace": workspace, "$or": [{"users": user}, {"scope": str(Scope.dm(user))}]}
