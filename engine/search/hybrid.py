"""Recall and archival search: words and meaning fused, read for dates and names.

Every candidate comes from the store under the caller's ``RecordFilter`` (or a narrower copy
of it), so the audience rules hold for everything returned.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import numpy as np
import numpy.typing as npt

from engine.records import ConversationKey, Message, Passage
from engine.search._fusion import Ranking, fuse_ranks
from engine.search._indexing import embedding_text, is_searchable, previous_turns
from engine.search._speakers import named_authors
from engine.search._timeframe import parse_timeframe
from engine.store.protocol import RecordFilter, Scored, Store

#: How many of the conversation's newest messages are read to find the turn before a new one.
_CONTEXT_LOOKBACK = 8


class Embedder(Protocol):
    async def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """One normalised float32 row per text."""
        ...


@dataclass(frozen=True, slots=True)
class SearchTuning:
    """The knobs of the ranking; defaults measured on LoCoMo (see bench/locomo_retrieval.py)."""

    #: Candidates taken from each ranking before fusion.
    depth: int = 50
    #: Reciprocal-rank constant.
    rrf_k: float = 60.0
    lexical_weight: float = 1.0
    vector_weight: float = 1.0
    #: Weight of the rankings rerun inside the span of time the query names.
    span_weight: float = 1.0
    #: Days around the named span still searched: people tell of an event days after it.
    span_slack_days: float = 7.0
    #: Score multiplier for messages written by someone the query names.
    speaker_boost: float = 0.3
    #: Score multiplier for candidates inside the named span, fading with days outside it.
    span_boost: float = 0.0
    #: Weight of newest-first order when the query asks for the recent or the latest.
    recency_weight: float = 0.5
    #: Embed each message with the turn before it (see ``engine.search._indexing``).
    context_turns: bool = True


class _Record(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def created_at(self) -> datetime: ...


def _narrowed(
    where: RecordFilter, span: tuple[datetime, datetime], slack: timedelta
) -> RecordFilter | None:
    """``where`` restricted to ``span`` (never widened); None when the two don't meet."""
    start = span[0] - slack
    end = span[1] + slack
    if where.start is not None:
        start = max(start, where.start)
    if where.end is not None:
        end = min(end, where.end)
    if start >= end:
        return None
    return dataclasses.replace(where, start=start, end=end)


class HybridSearch:
    """``conversation_search`` and ``archival_memory_search`` over any store."""

    def __init__(
        self,
        store: Store,
        embedder: Embedder,
        *,
        clock: Callable[[], datetime],
        tuning: SearchTuning | None = None,
    ) -> None:
        self._store = store
        self._embedder = embedder
        self._clock = clock
        self._tuning = tuning or SearchTuning()

    async def index_messages(self, messages: Sequence[Message]) -> None:
        """Embed searchable messages (with the turn before each) and attach the vectors."""
        conversations: dict[ConversationKey, list[Message]] = {}
        for message in messages:
            if is_searchable(message):
                conversations.setdefault(message.conversation, []).append(message)
        pairs: list[tuple[Message, Message | None]] = []
        for key, group in conversations.items():
            group.sort(key=lambda m: m.seq)
            earlier = await self._turn_before(key, group[0]) if self._tuning.context_turns else None
            found = previous_turns(group, earlier)
            pairs.extend(found if self._tuning.context_turns else [(m, None) for m, _ in found])
        if not pairs:
            return
        vectors = await self._embedder.embed([embedding_text(m, p) for m, p in pairs])
        await self._store.messages.set_embeddings(
            [(m.id, vector.tolist()) for (m, _), vector in zip(pairs, vectors, strict=True)]
        )

    async def _turn_before(self, key: ConversationKey, first: Message) -> Message | None:
        newest = await self._store.messages.recent(key, 0, _CONTEXT_LOOKBACK)
        before = [m for m in newest if m.seq < first.seq and is_searchable(m)]
        return before[-1] if before else None

    async def messages(self, where: RecordFilter, query: str, limit: int) -> list[Scored[Message]]:
        """The ``limit`` visible messages that best answer ``query``, best first."""
        store = self._store.messages
        ranked = await self._rank(where, query, limit, store.search_text, store.search_vector)
        if not ranked:
            return []
        tuning = self._tuning
        authors = named_authors(query, {s.record.author_name for s in ranked})
        if authors and tuning.speaker_boost:
            ranked = [
                Scored(s.record, s.score * (1 + tuning.speaker_boost))
                if s.record.author_name in authors
                else s
                for s in ranked
            ]
            ranked.sort(key=lambda s: -s.score)
        return ranked[:limit]

    async def passages(self, where: RecordFilter, query: str, limit: int) -> list[Scored[Passage]]:
        """The ``limit`` visible passages that best answer ``query``, best first."""
        store = self._store.passages
        ranked = await self._rank(where, query, limit, store.search_text, store.search_vector)
        return ranked[:limit]

    async def _rank[T: _Record](
        self,
        where: RecordFilter,
        query: str,
        limit: int,
        search_text: Callable[[RecordFilter, str, int], Awaitable[list[Scored[T]]]],
        search_vector: Callable[[RecordFilter, Sequence[float], int], Awaitable[list[Scored[T]]]],
    ) -> list[Scored[T]]:
        """Every candidate, fused and sorted; callers re-weigh and cut to ``limit``."""
        if limit <= 0 or not query.strip():
            return []
        tuning = self._tuning
        depth = max(tuning.depth, limit)
        frame = parse_timeframe(query, self._clock())
        words = frame.rest
        vector = (await self._embedder.embed([query]))[0].tolist()

        filters = [(where, 1.0)]
        if frame.start is not None and frame.end is not None:
            span = (frame.start, frame.end)
            narrowed = _narrowed(where, span, timedelta(days=tuning.span_slack_days))
            if narrowed is not None:
                filters.append((narrowed, tuning.span_weight))

        records: dict[str, T] = {}
        rankings: list[Ranking[str]] = []
        for scope, weight in filters:
            lexical, nearest = await asyncio.gather(
                search_text(scope, words, depth), search_vector(scope, vector, depth)
            )
            for hits, kind_weight in (
                (lexical, tuning.lexical_weight),
                (nearest, tuning.vector_weight),
            ):
                for hit in hits:
                    records.setdefault(hit.record.id, hit.record)
                rankings.append(Ranking([h.record.id for h in hits], weight * kind_weight))
        if frame.recent and tuning.recency_weight:
            newest = sorted(records.values(), key=lambda r: r.created_at, reverse=True)
            rankings.append(Ranking([r.id for r in newest], tuning.recency_weight))

        fused = fuse_ranks(rankings, tuning.rrf_k)
        if frame.start is not None and frame.end is not None and tuning.span_boost:
            for key, record in records.items():
                at = record.created_at
                outside = max(
                    (frame.start - at).total_seconds(), (at - frame.end).total_seconds(), 0
                )
                fade = math.exp(-outside / 86400 / max(tuning.span_slack_days, 1.0))
                fused[key] *= 1 + tuning.span_boost * fade
        order = sorted(fused, key=lambda key: -fused[key])
        return [Scored(records[key], fused[key]) for key in order]
