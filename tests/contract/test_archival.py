"""Archival passages: insert, get, browse, tags, date and user narrowing, search, delete."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.store.protocol import Store
from tests.contract.conftest import OpenReplica
from tests.contract.records import BASE_TIME, DIM, PUBLIC, axis, passage, visible_to


async def test_passage_round_trips_with_its_embedding(store: Store) -> None:
    kept = passage(
        "Alice's birthday is May 3", tags=("birthday",), users=("alice",), embedding=axis(2)
    )
    await store.passages.insert([kept])
    got = await store.passages.get(kept.id)
    assert got is not None
    assert got.embedding == pytest.approx(kept.embedding)
    assert (got.text, got.tags, got.users, got.created_at) == (
        kept.text,
        kept.tags,
        kept.users,
        kept.created_at,
    )
    assert await store.passages.get("missing") is None


async def test_browse_newest_first_with_tags_dates_and_users(store: Store) -> None:
    await store.passages.insert(
        [
            passage("oldest", tags=("work",), minutes=0),
            passage("middle", tags=("food", "work"), users=("bob",), minutes=10),
            passage("newest", tags=("food",), minutes=20),
        ]
    )
    where = visible_to(PUBLIC)
    assert [p.text for p in await store.passages.list(where, 10)] == ["newest", "middle", "oldest"]
    assert [p.text for p in await store.passages.list(where, 1, offset=1)] == ["middle"]
    assert await store.passages.count(where) == 3
    assert await store.passages.tag_counts(where) == {"work": 2, "food": 2}

    food = visible_to(PUBLIC, tags=("food",))
    assert [p.text for p in await store.passages.list(food, 10)] == ["newest", "middle"]
    assert await store.passages.count(food) == 2
    since = visible_to(PUBLIC, start=BASE_TIME + timedelta(minutes=5))
    assert await store.passages.count(since) == 2
    until = visible_to(PUBLIC, end=BASE_TIME + timedelta(minutes=10))
    assert await store.passages.count(until) == 2
    about_bob = visible_to(PUBLIC, user="bob")
    assert [p.text for p in await store.passages.list(about_bob, 10)] == ["middle"]


async def test_search_by_meaning_and_by_words(store: Store) -> None:
    await store.passages.insert(
        [
            passage("The office is in Paris", tags=("office",), embedding=axis(0)),
            passage("Standup is at nine", tags=("meetings",), embedding=axis(1)),
            passage("No embedding about Paris"),
        ]
    )
    where = visible_to(PUBLIC)
    by_vector = await store.passages.search_vector(where, axis(1), 2)
    assert by_vector[0].record.text == "Standup is at nine"
    assert by_vector[0].score == pytest.approx(1.0, abs=1e-3)
    assert [s.record.text for s in by_vector] != ["No embedding about Paris"]
    assert len(by_vector) == 2
    tagged = await store.passages.search_vector(visible_to(PUBLIC, tags=("office",)), axis(1), 5)
    assert [s.record.text for s in tagged] == ["The office is in Paris"]

    by_words = await store.passages.search_text(where, "where is the office, Paris?", 5)
    assert by_words[0].record.text == "The office is in Paris"
    assert {s.record.text for s in by_words} == {
        "The office is in Paris",
        "No embedding about Paris",
    }


async def test_search_sees_writes_and_deletes_made_through_another_handle(
    store: Store, open_replica: OpenReplica
) -> None:
    other = await open_replica()
    first = passage("first", embedding=axis(3))
    await store.passages.insert([first])
    where = visible_to(PUBLIC)
    assert [s.record.id for s in await store.passages.search_vector(where, axis(3), 5)] == [
        first.id
    ]

    second = passage("second", embedding=tuple(0.9 if i == 3 else 0.1 for i in range(DIM)))
    await other.passages.insert([second])
    found = await store.passages.search_vector(where, axis(3), 5)
    assert [s.record.id for s in found] == [first.id, second.id]

    assert await other.passages.delete([first.id]) == 1
    found = await store.passages.search_vector(where, axis(3), 5)
    assert [s.record.id for s in found] == [second.id]
    assert await store.passages.get(first.id) is None
    assert await store.passages.delete([first.id]) == 0


async def test_counts_follow_deletions_and_drop_tags_left_unused(store: Store) -> None:
    keep = passage("kept", tags=("food",))
    gone = passage("gone", tags=("food", "travel"))
    await store.passages.insert([keep, gone])
    where = visible_to(PUBLIC)
    assert await store.passages.tag_counts(where) == {"food": 2, "travel": 1}
    assert await store.passages.delete([gone.id, "missing"]) == 1
    assert await store.passages.count(where) == 1
    assert await store.passages.tag_counts(where) == {"food": 1}
    assert await store.passages.count(visible_to(PUBLIC, tags=("travel",))) == 0
