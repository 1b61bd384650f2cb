"""Recall and archival search: words and meaning fused, read for dates and names.

Every candidate comes from the store under the caller's ``RecordFilter``, unchanged, so the
audience rules and the caller's dates hold for everything returned.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from engine.embeddings import Embedder
from engine.records import ConversationKey, Message, Passage
from engine.search._fusion import Ranking, fuse_ranks
from engine.search._indexing import (
    CONTEXT_LOOKBACK,
    FOLLOWER_REACH,
    SEARCHABLE_ROLES,
    HistoryRead,
    embedding_text,
    followers,
    is_searchable,
    previous_turns,
    turn_before,
)
from engine.search._speakers import named_authors, without_names
from engine.search._timeframe import parse_timeframe
from engine.search.exchanges import Exchange, ExchangeShape, gather_exchanges
from engine.store.protocol import RecordFilter, Scored, Store
from engine.tokens import TokenCounter

#: At most this many more hits are asked for, to make up for those already in the agent's view.
IN_VIEW_SLACK = 50


@dataclass(frozen=True, slots=True)
class SearchTuning:
    """The knobs of the ranking; defaults measured on LoCoMo (see bench/locomo_retrieval.py)."""

    #: Candidates taken from each ranking before fusion.
    depth: int = 30
    #: Reciprocal-rank constant.
    rrf_k: float = 10.0
    lexical_weight: float = 1.8
    vector_weight: float = 1.0
    #: Score multiplier for candidates inside the span of time the query names.
    span_boost: float = 1.0
    #: Days over which that boost fades outside the span: people tell of an event days later.
    span_fade_days: float = 7.0
    #: Score multiplier for messages written by someone the query names.
    speaker_boost: float = 2.0
    #: Weight of the ranking of only the named people's own messages (found by meaning), so
    #: their words stay among the candidates however many others a store holds; used when the
    #: search is not asked from a conversation.
    speaker_weight: float = 0.5
    #: Weight of the rankings (words and meaning) of only the messages of the conversation
    #: (channel) the search is asked from.
    conversation_weight: float = 3.0
    #: Weight of newest-first order when the query asks for the recent or the latest.
    recency_weight: float = 0.5
    #: Embed each message with the turn before it (see ``engine.search._indexing``).
    context_turns: bool = True
    #: The turns returned around each hit of ``exchanges`` and their token cap.
    exchange: ExchangeShape = field(default_factory=ExchangeShape)


class _Record(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def created_at(self) -> datetime: ...


@dataclass(frozen=True, slots=True)
class _Focus[T]:
    """What ranks a record above its words alone: being said in the conversation the search
    is asked from (``channel``), or by someone the query names."""

    channel: str | None
    #: A record's author as (id, name), and the channel it was said in.
    author_of: Callable[[T], tuple[str, str]]
    channel_of: Callable[[T], str]

    def all_here(self, hits: Sequence[Scored[T]]) -> bool:
        """Whether every hit is of the conversation: then a search of the conversation alone
        would find the same hits, in the same order."""
        return all(self.channel_of(hit.record) == self.channel for hit in hits)

    def named(self, query: str, hits: Sequence[Scored[T]]) -> dict[str, str]:
        """The authors of ``hits`` whom ``query`` names, as id -> name."""
        authors = {self.author_of(hit.record) for hit in hits}
        names = named_authors(query, {name for _, name in authors})
        return {author: name for author, name in authors if name in names}


def _message_focus(asked_in: ConversationKey | None) -> _Focus[Message]:
    return _Focus(
        asked_in.channel if asked_in is not None else None,
        lambda m: (m.author, m.author_name),
        lambda m: m.channel,
    )


class HybridSearch:
    """``conversation_search`` and ``archival_memory_search`` over any store."""

    def __init__(
        self,
        store: Store,
        embedder: Embedder,
        *,
        clock: Callable[[], datetime],
        tuning: SearchTuning | None = None,
        count_tokens: Callable[[str], int] | None = None,
    ) -> None:
        self._store = store
        self._embedder = embedder
        self._clock = clock
        self._tuning = tuning or SearchTuning()
        self._count_tokens = count_tokens or TokenCounter("").count

    async def index_messages(self, messages: Sequence[Message]) -> None:
        """Embed searchable messages (with the turn before each) and attach the vectors."""
        await self._store.messages.set_embeddings(await self.message_embeddings(messages))

    async def message_embeddings(
        self, messages: Sequence[Message], seen: HistoryRead | None = None
    ) -> list[tuple[str, list[float]]]:
        """The vectors ``index_messages`` attaches, by message id, for a writer that stores
        them with the messages. ``seen`` is what the turn that produced them read of their
        conversation: the turn before them is taken from it instead of read again."""
        conversations: dict[ConversationKey, list[Message]] = {}
        for message in messages:
            if is_searchable(message):
                conversations.setdefault(message.conversation, []).append(message)
        pairs: list[tuple[Message, Message | None]] = []
        for key, group in conversations.items():
            group.sort(key=lambda m: m.seq)
            earlier = (
                await self._turn_before(key, group[0], seen) if self._tuning.context_turns else None
            )
            found = previous_turns(group, earlier)
            pairs.extend(found if self._tuning.context_turns else [(m, None) for m, _ in found])
        return await self._embedded(pairs)

    async def reindex_followers(self, forgotten: Sequence[Message]) -> int:
        """Embed again, in one call, the messages that follow ``forgotten`` ones (deleted,
        redacted or edited) in their conversations: their vectors were made with the forgotten
        text as the turn before them, so its words would still lead searches to them. Each is
        embedded with the turn before it as the store now holds it. How many were."""
        if not self._tuning.context_turns:
            return 0
        pairs: dict[str, tuple[Message, Message | None]] = {}
        window: list[Message] = []
        searchable = (m for m in forgotten if m.role in SEARCHABLE_ROLES)
        for gone in sorted(searchable, key=lambda m: (str(m.conversation), m.seq)):
            # The window read for an earlier forgotten message often holds this one's follower.
            same = bool(window) and window[0].conversation == gone.conversation
            found = followers(window, [gone]) if same and window[0].seq < gone.seq else []
            if not found:
                window = await self._store.messages.around(
                    gone.conversation, gone.seq, FOLLOWER_REACH
                )
                found = followers(window, [gone])
            pairs.update((m.id, (m, before)) for m, before in found)
        await self._store.messages.set_embeddings(await self._embedded(list(pairs.values())))
        return len(pairs)

    async def _embedded(
        self, pairs: Sequence[tuple[Message, Message | None]]
    ) -> list[tuple[str, list[float]]]:
        """Each message's vector, embedded with the turn paired with it, by message id."""
        if not pairs:
            return []
        vectors = await self._embedder.embed([embedding_text(m, p) for m, p in pairs])
        return [(m.id, vector.tolist()) for (m, _), vector in zip(pairs, vectors, strict=True)]

    async def _turn_before(
        self, key: ConversationKey, first: Message, seen: HistoryRead | None
    ) -> Message | None:
        newest = seen.newest() if seen is not None and seen.conversation == key else None
        if newest is None:
            newest = await self._store.messages.recent(key, 0, CONTEXT_LOOKBACK)
        return turn_before(newest, first)

    async def messages(
        self,
        where: RecordFilter,
        query: str,
        limit: int,
        asked_in: ConversationKey | None = None,
    ) -> list[Scored[Message]]:
        """The ``limit`` visible messages that best answer ``query``, best first.

        ``asked_in`` is the conversation the question comes from: its messages (or, without
        it, those of the people the query names) are searched apart as well, so they stay
        among the candidates however many other messages the store holds.
        """
        store = self._store.messages
        focus = _message_focus(asked_in)
        ranked = await self._rank(
            where, query, limit, store.search_text, store.search_vector, focus
        )
        return ranked[:limit]

    async def exchanges(
        self,
        where: RecordFilter,
        query: str,
        limit: int,
        exclude: frozenset[str] = frozenset(),
        asked_in: ConversationKey | None = None,
    ) -> list[Exchange]:
        """The ``limit`` best visible messages not in ``exclude``, each with the turns around
        it (see ``engine.search.exchanges``)."""
        found = await self.messages(
            where, query, limit + min(len(exclude), IN_VIEW_SLACK), asked_in
        )
        hits = [hit.record for hit in found if hit.record.id not in exclude][:limit]
        return await gather_exchanges(
            self._store.messages, where, hits, self._tuning.exchange, self._count_tokens, exclude
        )

    async def passages(self, where: RecordFilter, query: str, limit: int) -> list[Scored[Passage]]:
        """The ``limit`` visible passages that best answer ``query``, best first."""
        store = self._store.passages
        ranked = await self._rank(where, query, limit, store.search_text, store.search_vector)
        return ranked[:limit]

    @staticmethod
    async def _search_here[T, Q](
        search: Callable[[RecordFilter, Q, int], Awaitable[list[Scored[T]]]],
        here: RecordFilter | None,
        query: Q,
        depth: int,
        everywhere: list[Scored[T]],
        focus: _Focus[T] | None,
    ) -> list[Scored[T]]:
        """The conversation's own hits; those found everywhere when all of them are its own
        (an agent that lives in one channel pays no second search)."""
        if here is None or focus is None:
            return []
        if focus.all_here(everywhere):
            return everywhere
        return await search(here, query, depth)

    async def _rank[T: _Record](
        self,
        where: RecordFilter,
        query: str,
        limit: int,
        search_text: Callable[[RecordFilter, str, int], Awaitable[list[Scored[T]]]],
        search_vector: Callable[[RecordFilter, Sequence[float], int], Awaitable[list[Scored[T]]]],
        focus: _Focus[T] | None = None,
    ) -> list[Scored[T]]:
        """Every candidate, fused and sorted, best first.

        With ``focus``, people the query names are read off the candidates' authors: their
        names leave the words to match (they mostly match messages addressed to them), their
        own messages are boosted instead (and searched apart outside a conversation).
        """
        if limit <= 0 or not query.strip():
            return []
        tuning = self._tuning
        depth = max(tuning.depth, limit)
        frame = parse_timeframe(query, self._clock())
        vector = (await self._embedder.embed([query]))[0].tolist()
        here = None
        if (
            focus is not None
            and focus.channel is not None
            and where.channel is None
            and tuning.conversation_weight
        ):
            here = dataclasses.replace(where, channel=focus.channel)

        nearest = await search_vector(where, vector, depth)
        near_here = await self._search_here(search_vector, here, vector, depth, nearest, focus)
        named: dict[str, str] = {}
        words = frame.rest
        if focus is not None and tuning.speaker_boost:
            named = focus.named(query, (*nearest, *near_here))
            words = without_names(words, named.values())
        lexical = await search_text(where, words, depth)
        lexical_here = await self._search_here(search_text, here, words, depth, lexical, focus)
        by_named = []
        # Asked in a conversation, its own rankings hold the people in it: on LoCoMo in noise,
        # searching the named apart as well cost recall@1 and 2 ms.
        if tuning.speaker_weight and where.user is None and here is None:
            for author in named:
                mine = dataclasses.replace(where, user=author)
                by_named.append(await search_vector(mine, vector, depth))

        every = (*lexical, *nearest, *lexical_here, *near_here, *(h for r in by_named for h in r))
        records = {hit.record.id: hit.record for hit in every}
        rankings = [
            Ranking([h.record.id for h in lexical], tuning.lexical_weight),
            Ranking([h.record.id for h in nearest], tuning.vector_weight),
            Ranking(
                [h.record.id for h in lexical_here],
                tuning.lexical_weight * tuning.conversation_weight,
            ),
            Ranking(
                [h.record.id for h in near_here], tuning.vector_weight * tuning.conversation_weight
            ),
            *(Ranking([h.record.id for h in r], tuning.speaker_weight) for r in by_named),
        ]
        if frame.recent and tuning.recency_weight:
            newest = sorted(records.values(), key=lambda r: r.created_at, reverse=True)
            rankings.append(Ranking([r.id for r in newest], tuning.recency_weight))
        fused = fuse_ranks(rankings, tuning.rrf_k)

        if focus is not None and named:
            for key, record in records.items():
                if focus.author_of(record)[0] in named:
                    fused[key] *= 1 + tuning.speaker_boost
        if frame.start is not None and frame.end is not None and tuning.span_boost:
            days = 86_400 * max(tuning.span_fade_days, 1.0)
            for key, record in records.items():
                at = record.created_at
                outside = max((frame.start - at).total_seconds(), (at - frame.end).total_seconds())
                fused[key] *= 1 + tuning.span_boost * math.exp(-max(outside, 0) / days)
        order = sorted(fused, key=lambda key: -fused[key])
        return [Scored(records[key], fused[key]) for key in order]
