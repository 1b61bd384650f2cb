"""Shared query pieces: ``$text`` ranking and idempotent bulk inserts."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pymongo.errors import BulkWriteError

from engine.store.mongo._documents import Collection, Document

_DUPLICATE_KEY = 11000


async def text_ranked(
    collection: Collection, visible: Document, query: str, limit: int
) -> list[tuple[Document, float]]:
    """Documents matching ``visible`` and the words of ``query``, best ``textScore`` first."""
    if limit <= 0 or not query.strip():
        return []
    score = {"$meta": "textScore"}
    cursor = (
        collection.find(visible | {"$text": {"$search": query}}, {"_score": score})
        .sort([("_score", score)])
        .limit(limit)
    )
    return [(doc, float(doc.pop("_score"))) async for doc in cursor]


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
