"""A turn's context read: the same blocks, summary, messages and counts as the reads it joins."""

from __future__ import annotations

from engine.audience import Scope
from engine.records import Summary
from engine.store.block_selection import BlockSelection
from engine.store.protocol import ContextQuery, Store
from tests.contract.records import (
    AGENT,
    BASE_TIME,
    DM_ALICE,
    PUBLIC,
    block,
    message,
    passage,
    persona,
    visible_to,
)

CONVERSATION = message("", PUBLIC).conversation
SELECTION = BlockSelection.of(
    [AGENT], PUBLIC.workspace, PUBLIC.readable_scopes, [("persona", ""), ("channel", "C-general")]
)


async def remembered(store: Store) -> None:
    for part in (
        persona(),
        block("channel", "we ship on fridays", subject="C-general"),
        block("human", "alice likes tea", subject="alice"),  # not selected
        block("human", "a secret", subject="alice", scope=Scope.dm("alice")),
    ):
        await store.blocks.create(part)
    await store.messages.append([message(f"m{seq}", seq=seq) for seq in range(1, 11)])
    await store.messages.append([message("elsewhere", DM_ALICE, seq=11)])
    await store.passages.insert(
        [
            passage("release notes", tags=("release", "notes")),
            passage("more notes", tags=("notes",)),
            passage("private", DM_ALICE, tags=("secret",)),
        ]
    )


async def test_context_read_joins_blocks_summary_newest_messages_and_counts(
    store: Store,
) -> None:
    await remembered(store)
    where = visible_to(PUBLIC)
    read = await store.context.read(ContextQuery(SELECTION, where, CONVERSATION, 3))
    assert read.blocks == await store.blocks.select(SELECTION)
    assert [b.value for b in read.blocks] == ["we ship on fridays", "I am Ada, a helpful agent."]
    assert read.summary is None
    assert [m.content for m in read.recent] == ["m8", "m9", "m10"]
    assert read.recent == await store.messages.recent(CONVERSATION, 0, 3)
    assert (read.messages, read.passages) == (10, 2)
    assert read.tags == {"notes": 2, "release": 1}
    assert read.tags == await store.passages.tag_counts(where)


async def test_newest_messages_are_those_after_the_summary(store: Store) -> None:
    await remembered(store)
    summary = Summary(
        AGENT, PUBLIC.workspace, PUBLIC.channel, "", PUBLIC.write_scope, "m1 to m7", 7, 1, BASE_TIME
    )
    assert await store.summaries.put(summary, 0)
    where = visible_to(PUBLIC)
    reaching = await store.context.read(ContextQuery(SELECTION, where, CONVERSATION, 5))
    assert reaching.summary == await store.summaries.get(CONVERSATION)
    assert [m.content for m in reaching.recent] == ["m8", "m9", "m10"]
    beyond = await store.context.read(ContextQuery(SELECTION, where, CONVERSATION, 2))
    assert [m.content for m in beyond.recent] == ["m9", "m10"]
    nothing = await store.context.read(ContextQuery(SELECTION, where, CONVERSATION, 0))
    assert nothing.recent == []


async def test_context_read_of_nothing_selected_and_an_empty_conversation(store: Store) -> None:
    none = BlockSelection.of([], PUBLIC.workspace, PUBLIC.readable_scopes, None)
    read = await store.context.read(ContextQuery(none, visible_to(PUBLIC), CONVERSATION, 10))
    assert (read.blocks, read.summary, read.recent) == ([], None, [])
    assert (read.messages, read.passages, read.tags) == (0, 0, {})
