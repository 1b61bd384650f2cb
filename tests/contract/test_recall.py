"""Recall: append-only messages, windows by seq, browsing, text and vector search, edits."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from engine.records import Message, Role, ToolCall
from engine.store.protocol import Store
from tests.contract.records import (
    AGENT,
    BASE_TIME,
    DM_ALICE,
    OTHER_PUBLIC,
    PUBLIC,
    axis,
    message,
    visible_to,
)


def _contents(messages: list[Message]) -> list[str]:
    return [m.content for m in messages]


async def test_messages_round_trip_and_a_stored_id_is_left_as_it_is(store: Store) -> None:
    first = message("original", platform_ref="171.1")
    call = ToolCall("c1", "send_message", '{"message": "hi"}')
    with_call = replace(message("", role=Role.ASSISTANT, author=AGENT), tool_calls=(call,))
    result = replace(message("sent", role=Role.TOOL, author=""), tool_call_id="c1")
    await store.messages.append([first, with_call, result])
    await store.messages.append([replace(first, content="changed")])
    assert await store.messages.recent(first.conversation, 0, 10) == [first, with_call, result]


async def test_recent_returns_the_newest_after_a_seq_oldest_first(store: Store) -> None:
    thread = [message(f"m{i}", seq=i) for i in range(1, 11)]
    other_thread = [message(f"t{i}", seq=i, thread="1.5") for i in range(1, 4)]
    await store.messages.append(thread + other_thread)
    conversation = thread[0].conversation
    assert _contents(await store.messages.recent(conversation, 3, 4)) == ["m7", "m8", "m9", "m10"]
    assert _contents(await store.messages.recent(conversation, 8, 4)) == ["m9", "m10"]
    assert await store.messages.recent(conversation, 10, 4) == []
    assert _contents(await store.messages.between(conversation, 2, 5)) == ["m3", "m4", "m5"]
    in_thread = await store.messages.recent(other_thread[0].conversation, 0, 10)
    assert _contents(in_thread) == ["t1", "t2", "t3"]


async def test_list_browses_newest_first_and_count_matches(store: Store) -> None:
    await store.messages.append([message(f"m{i}", seq=i) for i in range(1, 6)])
    await store.messages.append([message("elsewhere", OTHER_PUBLIC, seq=50)])
    where = visible_to(PUBLIC)
    assert _contents(await store.messages.list(where, 2)) == ["m5", "m4"]
    assert _contents(await store.messages.list(where, 10, before_seq=3)) == ["m2", "m1"]
    assert await store.messages.count(where) == 5
    assert await store.messages.count(visible_to(PUBLIC, channel="C-other")) == 0


async def test_date_range_and_author_narrow_what_is_read(store: Store) -> None:
    await store.messages.append(
        [
            message("early", minutes=0),
            message("middle", minutes=60, author="bob"),
            message("late", minutes=120),
        ]
    )
    window = visible_to(
        PUBLIC, start=BASE_TIME + timedelta(minutes=30), end=BASE_TIME + timedelta(minutes=120)
    )
    assert sorted(_contents(await store.messages.list(window, 10))) == ["late", "middle"]
    assert await store.messages.count(window) == 2
    by_bob = visible_to(PUBLIC, user="bob")
    assert _contents(await store.messages.list(by_bob, 10)) == ["middle"]


async def test_text_search_matches_a_natural_language_question(store: Store) -> None:
    await store.messages.append(
        [
            message("Pineapple pizza is great, says Alice"),
            message("Deploy the service on Friday"),
            message("I had pineapple juice"),
        ]
    )
    found = await store.messages.search_text(
        visible_to(PUBLIC), "What did Alice say about pineapple pizza?", 5
    )
    assert [s.record.content for s in found][:2] == [
        "Pineapple pizza is great, says Alice",
        "I had pineapple juice",
    ]
    assert found[0].score > found[1].score
    assert "Deploy the service on Friday" not in [s.record.content for s in found]


@pytest.mark.parametrize(
    "query",
    ['"unbalanced', "NEAR(a b) AND OR NOT", "*:^-+(){}[]", "", "   ", "col:umn -x"],
)
async def test_text_search_never_raises_on_arbitrary_text(store: Store, query: str) -> None:
    await store.messages.append([message("a harmless message about columns")])
    found = await store.messages.search_text(visible_to(PUBLIC), query, 5)
    assert all(s.record.content == "a harmless message about columns" for s in found)


async def test_vector_search_ranks_by_cosine_among_embedded_messages(store: Store) -> None:
    near, far, unembedded = message("near"), message("far"), message("never embedded")
    await store.messages.append([near, far, unembedded])
    await store.messages.set_embeddings(
        [(near.id, axis(1)), (far.id, tuple(0.5 if i in (1, 2) else 0.0 for i in range(8)))]
    )
    found = await store.messages.search_vector(visible_to(PUBLIC), axis(1), 5)
    assert [s.record.content for s in found] == ["near", "far"]
    assert found[0].score == pytest.approx(1.0, abs=1e-3)
    assert found[1].score == pytest.approx(2**-0.5, abs=1e-3)


async def test_platform_edit_and_delete_reach_every_agents_copy(store: Store) -> None:
    mine = message("typo in heere", DM_ALICE, platform_ref="171.1")
    theirs = message("typo in heere", DM_ALICE, platform_ref="171.1", agent="agent-2")
    other = message("another message", DM_ALICE, platform_ref="171.2")
    await store.messages.append([mine, theirs, other])

    assert await store.messages.edit(DM_ALICE.workspace, DM_ALICE.channel, "171.1", "fixed") == 2
    where = visible_to(DM_ALICE)
    assert _contents(await store.messages.list(where, 10)) == ["another message", "fixed"]
    assert await store.messages.search_text(where, "heere", 5) == []
    assert [s.record.id for s in await store.messages.search_text(where, "fixed", 5)] == [mine.id]

    assert await store.messages.delete_ref(DM_ALICE.workspace, DM_ALICE.channel, "171.1") == 2
    assert _contents(await store.messages.list(where, 10)) == ["another message"]
    assert await store.messages.delete_ref(DM_ALICE.workspace, DM_ALICE.channel, "171.1") == 0


async def test_retention_removes_only_old_messages_of_one_workspace(store: Store) -> None:
    await store.messages.append(
        [
            message("old", minutes=0),
            message("new", minutes=120),
            message("old elsewhere", OTHER_PUBLIC, minutes=0),
        ]
    )
    removed = await store.messages.delete_before(PUBLIC.workspace, BASE_TIME + timedelta(hours=1))
    assert removed == 1
    assert _contents(await store.messages.list(visible_to(PUBLIC), 10)) == ["new"]
    assert await store.messages.count(visible_to(OTHER_PUBLIC)) == 1
