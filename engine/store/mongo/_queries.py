"""Shared query pieces: the reads of memory collections, ``$text`` ranking, bulk inserts."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from pymongo.errors import BulkWriteError

from engine.store.mongo._documents import Collection, Document, as_record
from engine.store.mongo._filters import vector_prefilter, visible_query
from engine.store.mongo._vector import VectorRanking
from engine.store.protocol import RecordFilter, Scored
from engine.text import search_words

type Sort = list[tuple[str, int]]

_DUPLICATE_KEY = 11000
#: Matches read per result asked for, ranked here (see ``text_ranked``).
_CANDIDATES_PER_RESULT = 20


async def text_ranked(
    collection: Collection, visible: Document, query: str, limit: int
) -> list[tuple[Document, float]]:
    """Documents matching ``visible`` and any word of ``query``, best ``textScore`` first.

    Only the words of ``query`` reach ``$text``, so no user text is read as negation or phrase
    syntax. Scores and documents are read separately and ranked here: mongoeco returns only
    ``_id`` and the score under a projection and does not sort by it.
    """
    terms = search_terms(query)
    if limit <= 0 or not terms:
        return []
    score = {"$meta": "textScore"}
    ranking = (
        collection.find(visible | {"$text": {"$search": terms}}, {"_id": True, "_score": score})
        .sort([("_score", score)])
        .limit(limit * _CANDIDATES_PER_RESULT)
    )
    scores = {doc["_id"]: float(doc["_score"]) async for doc in ranking}
    best = sorted(scores, key=lambda key: (-scores[key], key))[:limit]
    if not best:
        return []
    docs = {doc["_id"]: doc async for doc in collection.find({"_id": {"$in": best}})}
    return [(docs[key], scores[key]) for key in best if key in docs]


def search_terms(query: str) -> str:
    """The search words of ``query`` for ``$text``.

    Real MongoDB drops English stop words itself; mongoeco does not, so they go here.
    """
    return " ".join(search_words(query))


@contextmanager
def ignore_duplicates() -> Iterator[None]:
    """Let an unordered bulk insert skip documents whose key is already stored."""
    try:
        yield
    except BulkWriteError as error:
        errors = error.details.get("writeErrors", [])
        if error.details.get("writeConcernErrors") or any(
            e.get("code") != _DUPLICATE_KEY for e in errors
        ):
            raise


class MemoryCollection[T]:
    """Messages or passages, read through ``RecordFilter``s: the reads both collections share.

    Messages are about their ``author`` and have a channel; passages are about their ``users``
    and have tags (see ``visible_query``). The message and passage stores are memory
    collections with their own writes and reads added.
    """

    def __init__(self, collection: Collection, cls: type[T], *, messages: bool) -> None:
        self.collection = collection
        self._cls = cls
        self._messages = messages
        self._vectors = VectorRanking(collection)

    def record(self, doc: Document) -> T:
        return as_record(self._cls, doc)

    def visible(self, where: RecordFilter) -> Document:
        return visible_query(where, messages=self._messages)

    async def insert_new(self, docs: list[Document]) -> None:
        """Store ``docs``, skipping those whose key is already stored."""
        if docs:
            with ignore_duplicates():
                await self.collection.insert_many(docs, ordered=False)

    async def find(self, query: Document, sort: Sort, limit: int = 0, skip: int = 0) -> list[T]:
        cursor = self.collection.find(query).sort(sort).skip(skip).limit(limit)
        return [self.record(doc) async for doc in cursor]

    async def listed(self, where: RecordFilter, sort: Sort, limit: int, skip: int = 0) -> list[T]:
        """A page of the visible records in ``sort`` order; nothing for a limit of 0."""
        if limit <= 0:
            return []
        return await self.find(self.visible(where), sort, limit, skip)

    async def count(self, where: RecordFilter) -> int:
        return await self.collection.count_documents(self.visible(where))

    async def search_text(self, where: RecordFilter, query: str, limit: int) -> list[Scored[T]]:
        ranked = await text_ranked(self.collection, self.visible(where), query, limit)
        return [Scored(self.record(doc), score) for doc, score in ranked]

    async def search_vector(
        self, where: RecordFilter, vector: Sequence[float], limit: int
    ) -> list[Scored[T]]:
        prefilter = vector_prefilter(where, messages=self._messages)
        ranked = await self._vectors.nearest(prefilter, self.visible(where), vector, limit)
        return [Scored(self.record(doc), score) for doc, score in ranked]

    async def delete_where(self, query: Document) -> int:
        result = await self.collection.delete_many(query)
        return result.deleted_count
