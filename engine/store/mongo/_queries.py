"""Shared query pieces: ``$text`` ranking and idempotent bulk inserts."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pymongo import ASCENDING
from pymongo.errors import BulkWriteError

from engine.store.mongo._documents import Collection, Document

_DUPLICATE_KEY = 11000


async def text_ranked(
    collection: Collection, visible: Document, query: str, limit: int
) -> list[tuple[Document, float]]:
    """Documents matching ``visible`` and the words of ``query``, best ``textScore`` first.

    Scores and documents are read separately: mongoeco returns only ``_id`` and the score from
    a ``$text`` query with a projection, and the second read is small on any server.
    """
    if limit <= 0 or not query.strip():
        return []
    score = {"$meta": "textScore"}
    ranking = (
        collection.find(visible | {"$text": {"$search": query}}, {"_id": True, "_score": score})
        .sort([("_score", score), ("_id", ASCENDING)])
        .limit(limit)
    )
    scores = {doc["_id"]: float(doc["_score"]) async for doc in ranking}
    if not scores:
        return []
    docs = {doc["_id"]: doc async for doc in collection.find({"_id": {"$in": list(scores)}})}
    return [(docs[key], value) for key, value in scores.items() if key in docs]


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
