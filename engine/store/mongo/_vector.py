"""Nearest records by cosine similarity: ``$vectorSearch`` where the server has it.

A server without search (plain ``mongod``) answers ``$vectorSearch`` with an error; the
collection then ranks the filtered candidates in-process, so the store still works there.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
from pymongo.errors import OperationFailure

from engine.store.mongo._documents import Collection, Document

log = logging.getLogger(__name__)

#: Name of the ``vectorSearch`` index on each collection that stores embeddings.
VECTOR_INDEX = "embedding_vector"
#: Candidates the approximate search considers per result asked for.
CANDIDATES_PER_RESULT = 15
#: Atlas caps both ``numCandidates`` and ``limit`` at this.
_MAX_CANDIDATES = 10_000


class VectorRanking:
    """Vector search over one collection's ``embedding`` field."""

    def __init__(self, collection: Collection) -> None:
        self._collection = collection
        self._server_search = True

    async def nearest(
        self, prefilter: Document, exact: Document, vector: Sequence[float], limit: int
    ) -> list[tuple[Document, float]]:
        """Up to ``limit`` documents matching ``exact``, most similar first, with their score.

        ``prefilter`` is ``exact`` in the operators a search index accepts; ``exact`` is
        applied again after the search, so nothing outside it is ever returned.
        """
        if limit <= 0:
            return []
        limit = min(limit, _MAX_CANDIDATES)
        if self._server_search:
            try:
                return await self._search_on_server(prefilter, exact, vector, limit)
            except OperationFailure as error:
                self._server_search = False
                log.warning(
                    "MongoDB has no usable vector index on %s (%s); ranking in-process",
                    self._collection.name,
                    error.details.get("errmsg", error) if error.details else error,
                )
        return await self._rank_in_process(exact, vector, limit)

    async def _search_on_server(
        self, prefilter: Document, exact: Document, vector: Sequence[float], limit: int
    ) -> list[tuple[Document, float]]:
        stage = {
            "index": VECTOR_INDEX,
            "path": "embedding",
            "queryVector": [float(x) for x in vector],
            "numCandidates": min(limit * CANDIDATES_PER_RESULT, _MAX_CANDIDATES),
            "limit": limit,
            "filter": prefilter,
        }
        pipeline: list[Document] = [
            {"$vectorSearch": stage},
            {"$match": exact},
        ]
        cursor = await self._collection.aggregate(pipeline)
        docs = [doc async for doc in cursor]
        # Atlas reports (1 + cosine) / 2, mongoeco the cosine itself: score it here, alike.
        return _best(docs, cosine_similarities(vector, docs), limit)

    async def _rank_in_process(
        self, exact: Document, vector: Sequence[float], limit: int
    ) -> list[tuple[Document, float]]:
        query = {"$and": [exact, {"embedding": {"$type": "array"}}]}
        docs = await self._collection.find(query).to_list()
        docs = [d for d in docs if len(d["embedding"]) == len(vector)]
        return _best(docs, cosine_similarities(vector, docs), limit)


def _best(
    docs: Sequence[Document], scores: Sequence[float], limit: int
) -> list[tuple[Document, float]]:
    order = sorted(range(len(docs)), key=lambda i: -scores[i])[:limit]
    return [(docs[i], scores[i]) for i in order]


def cosine_similarities(vector: Sequence[float], docs: Sequence[Document]) -> list[float]:
    """Cosine similarity of ``vector`` with each document's ``embedding`` (0 for a zero one)."""
    if not docs:
        return []
    query = np.asarray(vector, dtype=np.float64)
    matrix = np.asarray([d["embedding"] for d in docs], dtype=np.float64)
    norms = np.linalg.norm(matrix, axis=1) * float(np.linalg.norm(query))
    scores = (matrix @ query) / np.where(norms == 0, 1.0, norms)
    return [float(x) for x in scores]
