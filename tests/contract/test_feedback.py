"""Ratings of replies: one per person per reply, found by turn, newest first, forgotten with
the person."""

from __future__ import annotations

from datetime import timedelta

from engine.store.feedback import Feedback, Rating
from engine.store.protocol import Store
from tests.contract.records import AGENT, BASE_TIME, OTHER_WS, WS


def rating(
    reply: str, user: str, rating: Rating, *, turn: str = "turn-1", minutes: int = 0, ws: str = WS
) -> Feedback:
    return Feedback(
        reply, user, rating, AGENT, ws, "C1", turn, BASE_TIME + timedelta(minutes=minutes)
    )


async def test_rating_again_replaces_the_persons_earlier_rating(store: Store) -> None:
    await store.feedback.put(rating("r-1", "alice", Rating.GOOD))
    await store.feedback.put(rating("r-1", "bob", Rating.GOOD, minutes=1))
    await store.feedback.put(rating("r-1", "alice", Rating.BAD, minutes=2))
    found = await store.feedback.for_turns(["turn-1"])
    assert [(f.user, f.rating) for f in found] == [("bob", Rating.GOOD), ("alice", Rating.BAD)]
    assert found[1] == rating("r-1", "alice", Rating.BAD, minutes=2)


async def test_ratings_are_found_by_turn_and_newest_first(store: Store) -> None:
    await store.feedback.put(rating("r-1", "alice", Rating.GOOD, turn="turn-1"))
    await store.feedback.put(rating("r-2", "alice", Rating.BAD, turn="turn-2", minutes=5))
    await store.feedback.put(
        rating("r-3", "bob", Rating.GOOD, turn="turn-3", minutes=9, ws=OTHER_WS)
    )
    assert [f.reply_id for f in await store.feedback.for_turns(["turn-2", "turn-9"])] == ["r-2"]
    assert await store.feedback.for_turns([]) == []
    assert [f.reply_id for f in await store.feedback.recent(10)] == ["r-3", "r-2", "r-1"]
    assert [f.reply_id for f in await store.feedback.recent(1, WS)] == ["r-2"]
    assert await store.feedback.recent(0) == []


async def test_forgetting_a_person_forgets_their_ratings_in_that_workspace(store: Store) -> None:
    await store.feedback.put(rating("r-1", "alice", Rating.GOOD))
    await store.feedback.put(rating("r-2", "alice", Rating.BAD, ws=OTHER_WS))
    await store.feedback.put(rating("r-1", "bob", Rating.BAD))
    await store.feedback.put(rating("r-3", "alice", Rating.BAD, minutes=3))
    assert [f.reply_id for f in await store.feedback.of_user(WS, "alice")] == ["r-3", "r-1"]
    assert await store.feedback.delete_user(WS, "alice") == 2
    assert await store.feedback.of_user(WS, "alice") == []
    assert sorted((f.user, f.workspace) for f in await store.feedback.recent(10)) == [
        ("alice", OTHER_WS),
        ("bob", WS),
    ]
