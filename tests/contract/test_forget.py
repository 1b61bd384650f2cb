"""Forgetting a user removes exactly what is about them, in one workspace, and nothing else."""

from __future__ import annotations

from engine.audience import Scope
from engine.records import Role, Summary
from engine.store.protocol import Store
from tests.contract.records import (
    AGENT,
    BASE_TIME,
    DM_ALICE,
    DM_BOB,
    OTHER_PUBLIC,
    OTHER_WS,
    PUBLIC,
    WS,
    axis,
    block,
    message,
    passage,
    persona,
    visible_to,
)


def _summary(audience_channel: str, scope: Scope, workspace: str = WS) -> Summary:
    return Summary(AGENT, workspace, audience_channel, "", scope, "so far", 10, 1, BASE_TIME)


async def test_delete_user_removes_exactly_what_is_about_them(store: Store) -> None:
    kept_blocks = [
        await store.blocks.create(persona()),
        await store.blocks.create(block("human", "bob", subject="bob", scope=Scope.dm("bob"))),
        await store.blocks.create(block("channel", "general", subject="C-general")),
        await store.blocks.create(
            block("human", "alice in T2", subject="alice", workspace=OTHER_WS)
        ),
    ]
    for doomed in (
        block("human", "alice dm", subject="alice", scope=Scope.dm("alice")),
        block("human", "alice public", subject="alice", scope=Scope.workspace()),
        block("channel", "learned from alice", subject="D-alice", scope=Scope.dm("alice")),
    ):
        await store.blocks.create(doomed)

    await store.messages.append(
        [
            message("alice said in public", PUBLIC, author="alice"),
            message("agent answered alice in her DM", DM_ALICE, author=AGENT, role=Role.ASSISTANT),
            message("bob said in public", PUBLIC, author="bob"),
            message("bob in his DM", DM_BOB, author="bob"),
            message("alice in another workspace", OTHER_PUBLIC, author="alice"),
        ]
    )
    await store.passages.insert(
        [
            passage("about alice, public", PUBLIC, users=("alice",)),
            passage("learned in alice's DM", DM_ALICE),
            passage("about alice and bob", PUBLIC, users=("bob", "alice")),
            passage("about bob", PUBLIC, users=("bob",)),
            passage("general fact", PUBLIC),
            passage("alice elsewhere", OTHER_PUBLIC, users=("alice",)),
        ]
    )
    assert await store.summaries.put(_summary("D-alice", Scope.dm("alice")), 0)
    assert await store.summaries.put(_summary("C-general", Scope.workspace()), 0)
    assert await store.summaries.put(_summary("D-bob", Scope.dm("bob")), 0)

    assert await store.blocks.delete_user(WS, "alice") == 3
    assert await store.messages.delete_user(WS, "alice") == 2
    assert await store.passages.delete_user(WS, "alice") == 3
    assert await store.summaries.delete_user(WS, "alice") == 1

    assert {b.id for b in await store.blocks.list(AGENT)} == {b.id for b in kept_blocks}
    everyone = visible_to(DM_BOB)
    assert sorted(m.content for m in await store.messages.list(everyone, 50)) == [
        "bob in his DM",
        "bob said in public",
    ]
    assert sorted(p.text for p in await store.passages.list(everyone, 50)) == [
        "about bob",
        "general fact",
    ]
    assert await store.messages.count(visible_to(OTHER_PUBLIC)) == 1
    assert await store.passages.count(visible_to(OTHER_PUBLIC)) == 1
    assert await store.summaries.get(message("", DM_ALICE).conversation) is None
    assert await store.summaries.get(message("", PUBLIC).conversation) is not None
    assert await store.summaries.get(message("", DM_BOB).conversation) is not None


async def test_forgotten_records_leave_vector_search_too(store: Store) -> None:
    said = message("alice's embedded message", PUBLIC, author="alice")
    kept = message("bob's embedded message", PUBLIC, author="bob")
    await store.messages.append([said, kept])
    await store.messages.set_embeddings([(said.id, axis(4)), (kept.id, axis(4))])
    await store.passages.insert(
        [
            passage("about alice", PUBLIC, users=("alice",), embedding=axis(4)),
            passage("about bob", PUBLIC, users=("bob",), embedding=axis(4)),
        ]
    )
    where = visible_to(PUBLIC)
    assert len(await store.messages.search_vector(where, axis(4), 10)) == 2
    assert len(await store.passages.search_vector(where, axis(4), 10)) == 2

    await store.messages.delete_user(WS, "alice")
    await store.passages.delete_user(WS, "alice")
    found = await store.messages.search_vector(where, axis(4), 10)
    assert [s.record.id for s in found] == [kept.id]
    texts = [s.record.text for s in await store.passages.search_vector(where, axis(4), 10)]
    assert texts == ["about bob"]
