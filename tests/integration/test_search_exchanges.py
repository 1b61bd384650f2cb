"""Recall search returns exchanges: each hit with the turns around it, merged, under a cap."""

from __future__ import annotations

from engine.audience import Scope
from engine.records import Message
from engine.search import Exchange, ExchangeShape, HybridSearch, SearchTuning, render_exchanges
from engine.store.protocol import Store
from tests.integration.test_search_hybrid import (
    ALICE_DM,
    NOW,
    PUBLIC,
    BagOfWords,
    message,
    remember,
    store,
)

__all__ = ["store"]  # the fixture, shared with the hybrid search tests


def contents(exchange: Exchange) -> list[str]:
    return [m.content for m in exchange.turns]


def searcher(store: Store, **shape: int) -> HybridSearch:
    tuning = SearchTuning(exchange=ExchangeShape(**shape))
    return HybridSearch(store, BagOfWords(), clock=lambda: NOW, tuning=tuning)


def chat(*lines: str, channel: str = "C1") -> list[Message]:
    return [
        message(line, author="Alice" if n % 2 else "Bob", channel=channel)
        for n, line in enumerate(lines)
    ]


async def test_a_hit_comes_with_the_turns_that_answer_it(store: Store) -> None:
    search = searcher(store, before=1, after=2)
    turns = chat(
        "good morning",
        "how was the weekend",
        "we found an awesome cafe downtown",
        "what did you eat",
        "croissants, muffins and tarts",
        "unrelated: the printer is broken",
    )
    await remember(store, search, *turns)

    (exchange,) = await search.exchanges(PUBLIC, "awesome cafe", 1)

    assert contents(exchange) == [
        "how was the weekend",
        "we found an awesome cafe downtown",
        "what did you eat",
        "croissants, muffins and tarts",
    ]
    assert exchange.hits == {turns[2].id}


async def test_neighbours_stay_in_the_conversation_and_the_audience(store: Store) -> None:
    search = searcher(store, before=2, after=2)
    secret = message("my salary is ninety thousand", scope=Scope.dm("alice"))
    elsewhere = message("cafe downtown closes at six", channel="C2")
    await remember(
        store,
        search,
        message("before the cafe talk"),
        secret,
        elsewhere,
        message("the cafe downtown is great"),
        message("after the cafe talk"),
    )

    public = await search.exchanges(PUBLIC, "great cafe downtown", 1)
    private = await search.exchanges(ALICE_DM, "great cafe downtown", 1)

    assert contents(public[0]) == [
        "before the cafe talk",
        "the cafe downtown is great",
        "after the cafe talk",
    ]
    assert secret.content in contents(private[0])
    assert elsewhere.content not in contents(private[0])


async def test_overlapping_hits_are_one_exchange(store: Store) -> None:
    search = searcher(store, before=1, after=1)
    turns = chat(
        "kayak trip planned", "which river", "the kayak trip is on the green river", "nice"
    )
    await remember(store, search, *turns, *chat("budget review at noon", channel="C9"))

    exchanges = await search.exchanges(PUBLIC, "kayak trip", 2)

    assert len(exchanges) == 1
    assert contents(exchanges[0]) == [m.content for m in turns]
    assert exchanges[0].hits == {turns[0].id, turns[2].id}


async def test_hits_far_apart_in_one_conversation_keep_their_own_windows(store: Store) -> None:
    """Hits of one conversation (read together) and of another each come with their own
    neighbours only."""
    search = searcher(store, before=1, after=1)
    said = "morning|the kayak is ready|great|lunch?|sure|tea|ok|kayak back in the shed|thanks"
    here = chat(*said.split("|"))
    there = chat("hello", "a kayak for sale", "how much", channel="C2")
    await remember(store, search, *here, *there)

    exchanges = await search.exchanges(PUBLIC, "kayak", 3)

    assert sorted(contents(e) for e in exchanges) == sorted(
        [
            ["morning", "the kayak is ready", "great"],
            ["ok", "kayak back in the shed", "thanks"],
            ["hello", "a kayak for sale", "how much"],
        ]
    )


async def test_the_token_cap_drops_neighbours_before_hits(store: Store) -> None:
    search = searcher(store, before=2, after=2, token_cap=40)
    filler = "a long aside about nothing in particular " * 3
    turns = chat(
        filler, "violin lessons start monday", filler, filler, "violin recital in june", filler
    )
    await remember(store, search, *turns)

    exchanges = await search.exchanges(PUBLIC, "violin", 2)

    shown = [c for e in exchanges for c in contents(e)]
    assert sorted(shown) == ["violin lessons start monday", "violin recital in june"]


async def test_turns_in_view_are_not_repeated(store: Store) -> None:
    search = searcher(store, before=1, after=1)
    turns = chat("where is the offsite", "the offsite is in lisbon", "booked")
    await remember(store, search, *turns)

    exchanges = await search.exchanges(PUBLIC, "offsite lisbon", 3, frozenset({turns[2].id}))

    assert [m.id for e in exchanges for m in e.turns] == [turns[0].id, turns[1].id]


def test_rendering_marks_the_hits() -> None:
    first, second = chat("which river", "the green river")
    text = render_exchanges([Exchange((first, second), frozenset({second.id}))])

    assert text.splitlines()[0] == "1 matching messages (marked >) in 1 exchanges:"
    assert text.splitlines()[2].startswith("- [")
    assert text.endswith("Alice: the green river")
    assert text.splitlines()[3].startswith("> [")
    assert render_exchanges([]) == "No past messages matched."
