"""Core-memory parts: scoped visibility, idempotent creation, compare-and-set updates."""

from __future__ import annotations

import asyncio

from engine.audience import Scope
from engine.store.protocol import Store
from tests.contract.conftest import OpenReplica
from tests.contract.records import AGENT, OTHER_WS, WS, block, persona


async def test_create_returns_the_existing_part_for_the_same_key(store: Store) -> None:
    first = await store.blocks.create(block("human", "likes tea", subject="alice"))
    again = await store.blocks.create(block("human", "likes coffee", subject="alice"))
    assert again == first
    assert again.value == "likes tea"
    assert await store.blocks.get(first.id) == first


async def test_racing_creators_agree_on_one_part(store: Store) -> None:
    made = await asyncio.gather(
        *(store.blocks.create(block("channel", f"v{i}", subject="C1")) for i in range(8))
    )
    assert len({b.id for b in made}) == 1
    assert len(await store.blocks.list(AGENT)) == 1


async def test_visible_orders_by_label_subject_then_creation_and_filters_keys(
    store: Store,
) -> None:
    base = await store.blocks.create(persona())
    bob = await store.blocks.create(block("human", "bob part", subject="bob"))
    alice_ws = await store.blocks.create(block("human", "alice public", subject="alice"))
    alice_dm = await store.blocks.create(
        block("human", "alice dm", subject="alice", scope=Scope.dm("alice"))
    )
    channel = await store.blocks.create(block("channel", "about C1", subject="C1"))
    await store.blocks.create(block("human", "another agent", subject="alice", owner="agent-2"))

    scopes = (Scope.agent(), Scope.workspace(), Scope.dm("alice"))
    everything = await store.blocks.visible([AGENT], WS, scopes)
    assert [b.id for b in everything] == [channel.id, alice_ws.id, alice_dm.id, bob.id, base.id]

    keyed = await store.blocks.visible([AGENT], WS, scopes, keys=[("human", "alice")])
    assert [b.id for b in keyed] == [alice_ws.id, alice_dm.id]
    assert await store.blocks.visible([AGENT], WS, scopes, keys=[]) == []


async def test_agent_wide_persona_is_visible_in_every_workspace(store: Store) -> None:
    base = await store.blocks.create(persona())
    local = await store.blocks.create(block("persona", "In T1 I speak French."))
    in_t1 = await store.blocks.visible([AGENT], WS, (Scope.agent(), Scope.workspace()))
    in_t2 = await store.blocks.visible([AGENT], OTHER_WS, (Scope.agent(), Scope.workspace()))
    assert {b.id for b in in_t1} == {base.id, local.id}
    assert [b.id for b in in_t2] == [base.id]


async def test_update_is_compare_and_set_on_the_version(store: Store) -> None:
    part = await store.blocks.create(block("human", "v1", subject="alice"))
    updated = await store.blocks.update(part.id, part.version, "v2")
    assert updated is not None
    assert (updated.value, updated.version) == ("v2", part.version + 1)
    assert await store.blocks.update(part.id, part.version, "stale write") is None
    assert await store.blocks.get(part.id) == updated
    assert await store.blocks.update("no-such-block", 1, "x") is None


async def test_twenty_racing_writers_lose_no_update(
    store: Store, open_replica: OpenReplica
) -> None:
    handles = [store, await open_replica()]
    part = await store.blocks.create(block("human", "", subject="alice"))

    async def append_mark(i: int) -> None:
        handle = handles[i % len(handles)]
        while True:
            current = await handle.blocks.get(part.id)
            assert current is not None
            if await handle.blocks.update(part.id, current.version, f"{current.value}[{i}]"):
                return

    await asyncio.gather(*(append_mark(i) for i in range(20)))
    final = await store.blocks.get(part.id)
    assert final is not None
    assert sorted(final.value.strip("[]").split("][")) == sorted(str(i) for i in range(20))
    assert final.version == part.version + 20


async def test_list_shows_every_part_of_an_owner_and_delete_removes_one(store: Store) -> None:
    base = await store.blocks.create(persona())
    t1 = await store.blocks.create(block("human", "a", subject="alice"))
    t2 = await store.blocks.create(block("human", "b", subject="alice", workspace=OTHER_WS))
    assert {b.id for b in await store.blocks.list(AGENT)} == {base.id, t1.id, t2.id}
    assert [b.id for b in await store.blocks.list(AGENT, OTHER_WS)] == [t2.id]
    assert await store.blocks.delete(t1.id)
    assert not await store.blocks.delete(t1.id)
    assert await store.blocks.get(t1.id) is None
