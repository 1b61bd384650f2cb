"""A user's own hand on single memories: "Remember this" keeps a message in its audience only,
"Forget this" removes the user's own message and what was derived from it (never someone
else's), and a corrected item keeps where it came from."""

from __future__ import annotations

from engine.ports import PlatformMessage
from engine.records import Agent
from engine.store.lineage import Derived, block_line_id, links
from engine.store.protocol import RecordFilter, Store
from engine.user_data import UserDataService
from engine.user_memory import UserMemoryService
from tests.contract.records import (
    AGENT,
    BASE_TIME,
    DM_ALICE,
    PRIVATE,
    PUBLIC,
    WS,
    block,
    message,
    passage,
)


def pointed_at(text: str, *, author: str = "alice", ref: str = "m-1") -> PlatformMessage:
    return PlatformMessage(WS, PRIVATE.channel, ref, author, author.title(), text, BASE_TIME)


async def memory_of(store: Store) -> UserMemoryService:
    await store.agents.put(Agent(AGENT, "ada", "model", "", ()))
    return UserMemoryService(UserDataService(store), store)


async def kept_in(store: Store, where: RecordFilter) -> list[str]:
    return [p.text for p in await store.passages.list(where, 10)]


async def test_a_remembered_private_message_is_kept_once_and_only_in_its_channel(
    store: Store,
) -> None:
    memory = await memory_of(store)
    said = message("the launch code is 4711", PRIVATE, platform_ref="m-1")
    await store.messages.append([said])
    note = pointed_at("the launch code is 4711")

    assert await memory.remember_message(AGENT, PRIVATE, note, "bob")
    assert not await memory.remember_message(AGENT, PRIVATE, note, "bob")

    private = RecordFilter.for_audience(AGENT, PRIVATE)
    assert await kept_in(store, private) == ["Alice wrote: the launch code is 4711"]
    assert await kept_in(store, RecordFilter.for_audience(AGENT, PUBLIC)) == []
    [kept] = await store.passages.list(private, 10)
    assert kept.users == ("alice", "bob")
    sources = await store.lineage.sources_of(Derived.PASSAGE, [kept.id])
    assert set(sources[kept.id]) == {said.id, note.source}


async def test_forgetting_your_message_removes_it_and_what_came_from_it(store: Store) -> None:
    memory = await memory_of(store)
    said = message("my phone is 555-0100", PRIVATE, platform_ref="m-1")
    await store.messages.append([said])
    derived = passage("Alice's phone is 555-0100", PRIVATE)
    await store.passages.insert([derived])
    await store.lineage.link(links(Derived.PASSAGE, derived.id, [said.id], WS))
    note = pointed_at("my phone is 555-0100")
    await memory.remember_message(AGENT, PRIVATE, note, "bob")

    assert await memory.forget_message(note, "bob") is None
    assert await store.messages.by_ids([said.id])

    report = await memory.forget_message(note, "alice")

    assert report is not None
    assert (report.messages, report.passages) == (1, 2)
    assert await store.messages.by_ids([said.id]) == []
    assert await kept_in(store, RecordFilter.for_audience(AGENT, PRIVATE)) == []


async def test_a_corrected_item_keeps_its_sources(store: Store) -> None:
    memory = await memory_of(store)
    said = message("I live in Lyon", DM_ALICE)
    await store.messages.append([said])
    human = block("human", "Lives in Lyon\nLikes tea", subject="alice", scope=DM_ALICE.write_scope)
    await store.blocks.create(human)
    fact = passage("Alice lives in Lyon", DM_ALICE, users=("alice",))
    await store.passages.insert([fact])
    old_line = block_line_id(human.id, "Lives in Lyon")
    await store.lineage.link(
        [
            *links(Derived.BLOCK_LINE, old_line, [said.id], WS),
            *links(Derived.PASSAGE, fact.id, [said.id], WS),
        ]
    )

    line = await memory.edit_item(WS, "alice", f"block_line:{old_line}", "Lives in  Paris")
    fixed = await memory.edit_item(WS, "alice", f"passage:{fact.id}", "Alice lives in Paris")

    assert line is not None
    assert fixed is not None
    stored = await store.blocks.get(human.id)
    assert stored is not None
    assert stored.value == "Lives in Paris\nLikes tea"
    assert await store.passages.get(fact.id) is None
    assert await memory.edit_item(WS, "alice", f"passage:{fact.id}", "gone") is None
    sources = await store.lineage.sources_of(Derived.BLOCK_LINE, [line.record_id])
    assert sources[line.record_id] == [said.id]
    sources = await store.lineage.sources_of(Derived.PASSAGE, [fixed.record_id])
    assert sources[fixed.record_id] == [said.id]
    assert await memory.edit_item(WS, "bob", fixed.key, "Bob's now") is None
