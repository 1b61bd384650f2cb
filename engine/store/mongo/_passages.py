"""Archival memory in the ``passages`` collection, searched by meaning and by words."""

from __future__ import annotations

import builtins
from collections.abc import Sequence

from pymongo import DESCENDING

from engine.audience import Scope
from engine.records import Passage, next_seq
from engine.store.codec import decode, encode
from engine.store.mongo._documents import (
    CREATED_DATE,
    Collection,
    Document,
    keyed,
    unkeyed,
    with_created_date,
)
from engine.store.mongo._filters import vector_prefilter, visible_query
from engine.store.mongo._queries import ignore_duplicates, text_ranked
from engine.store.mongo._vector import VectorRanking
from engine.store.protocol import RecordFilter, Scored

#: Insertion order, the tie-breaker of "newest first" between equal timestamps.
_INSERTED_SEQ = "inserted_seq"
_NEWEST_FIRST = [("created_at", DESCENDING), (_INSERTED_SEQ, DESCENDING)]


def _passage(doc: Document) -> Passage:
    doc.pop(CREATED_DATE, None)
    doc.pop(_INSERTED_SEQ, None)
    return decode(Passage, unkeyed(doc))


def _visible(where: RecordFilter) -> Document:
    return visible_query(where, messages=False)


def _document(passage: Passage) -> Document:
    doc = with_created_date(keyed(encode(passage)), passage.created_at)
    doc[_INSERTED_SEQ] = next_seq()
    if doc["embedding"] is None:
        # Absent rather than null, so the vector index and the fallback skip it alike.
        del doc["embedding"]
    return doc


class MongoPassages:
    def __init__(self, collection: Collection) -> None:
        self._passages = collection
        self._vectors = VectorRanking(collection)

    async def insert(self, passages: Sequence[Passage]) -> None:
        if passages:
            with ignore_duplicates():
                await self._passages.insert_many([_document(p) for p in passages], ordered=False)

    async def search_vector(
        self, where: RecordFilter, vector: Sequence[float], limit: int
    ) -> builtins.list[Scored[Passage]]:
        prefilter = vector_prefilter(where, messages=False)
        ranked = await self._vectors.nearest(prefilter, _visible(where), vector, limit)
        return [Scored(_passage(doc), score) for doc, score in ranked]

    async def search_text(
        self, where: RecordFilter, query: str, limit: int
    ) -> builtins.list[Scored[Passage]]:
        ranked = await text_ranked(self._passages, _visible(where), query, limit)
        return [Scored(_passage(doc), score) for doc, score in ranked]

    async def list(
        self, where: RecordFilter, limit: int, offset: int = 0
    ) -> builtins.list[Passage]:
        if limit <= 0:
            return []
        cursor = self._passages.find(_visible(where)).sort(_NEWEST_FIRST).skip(offset).limit(limit)
        return [_passage(doc) async for doc in cursor]

    async def count(self, where: RecordFilter) -> int:
        return await self._passages.count_documents(_visible(where))

    async def tag_counts(self, where: RecordFilter) -> dict[str, int]:
        pipeline: builtins.list[Document] = [
            {"$match": _visible(where)},
            {"$unwind": "$tags"},
            {"$group": {"_id": "$tags", "count": {"$sum": 1}}},
        ]
        cursor = await self._passages.aggregate(pipeline)
        return {str(doc["_id"]): int(doc["count"]) async for doc in cursor}

    async def get(self, passage_id: str) -> Passage | None:
        doc = await self._passages.find_one({"_id": passage_id})
        return None if doc is None else _passage(doc)

    async def delete(self, passage_ids: Sequence[str]) -> int:
        if not passage_ids:
            return 0
        result = await self._passages.delete_many({"_id": {"$in": list(passage_ids)}})
        return result.deleted_count

    async def delete_user(self, workspace: str, user: str) -> int:
        result = await self._passages.delete_many(
            {"workspace": workspace, "$or": [{"users": user}, {"scope": str(Scope.dm(user))}]}
        )
        return result.deleted_count
