"""Shared query pieces: ``$text`` ranking and idempotent bulk inserts."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pymongo.errors import BulkWriteError

from engine.store.mongo._documents import Collection, Document
from engine.text import search_words

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
