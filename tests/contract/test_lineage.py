"""The lineage index: links recorded once, found by source in one lookup, removed with records."""

from __future__ import annotations

from engine.store.lineage import Derived, DerivedRecord, block_line_id, links
from engine.store.protocol import Store
from tests.contract.records import WS, message


async def test_records_are_found_by_any_of_their_sources(store: Store) -> None:
    line = block_line_id("block-1", "Alice  likes   tea")
    await store.lineage.link(
        [
            *links(Derived.PASSAGE, "p-1", ["m-1", "m-2"], WS),
            *links(Derived.BLOCK_LINE, line, ["m-2", "p-1", "m-2", ""], WS),
            *links(Derived.SUMMARY, "agent/T1/C1/", ["m-3"], WS),
        ]
    )
    assert await store.lineage.derived_from(["m-2"]) == [
        DerivedRecord(Derived.BLOCK_LINE, line),
        DerivedRecord(Derived.PASSAGE, "p-1"),
    ]
    assert await store.lineage.derived_from(["p-1"]) == [DerivedRecord(Derived.BLOCK_LINE, line)]
    assert await store.lineage.derived_from(["m-9"]) == []
    assert await store.lineage.derived_from([]) == []
    assert line == block_line_id("block-1", "Alice likes tea")
    assert await store.lineage.sources_of(Derived.BLOCK_LINE, [line, "absent"]) == {
        line: ["m-2", "p-1"]
    }


async def test_recording_a_link_twice_keeps_one(store: Store) -> None:
    await store.lineage.link(links(Derived.MAIL, "mail-1", ["m-1"], WS))
    await store.lineage.link(links(Derived.MAIL, "mail-1", ["m-1", "m-2"], WS))
    assert await store.lineage.sources_of(Derived.MAIL, ["mail-1"]) == {"mail-1": ["m-1", "m-2"]}
    assert await store.lineage.unlink_records(Derived.MAIL, ["mail-1"]) == 2


async def test_the_same_id_of_another_kind_is_another_record(store: Store) -> None:
    await store.lineage.link(
        links(Derived.PASSAGE, "x", ["m-1"], WS) + links(Derived.DIGEST, "x", ["m-2"], WS)
    )
    assert await store.lineage.unlink_records(Derived.PASSAGE, ["x"]) == 1
    assert await store.lineage.derived_from(["m-1", "m-2"]) == [DerivedRecord(Derived.DIGEST, "x")]


async def test_unlinking_sources_leaves_other_links(store: Store) -> None:
    await store.lineage.link(
        links(Derived.PASSAGE, "p-1", ["m-1", "m-2"], WS)
        + links(Derived.MESSAGE, "a-1", ["m-1"], WS)
    )
    assert await store.lineage.unlink_sources(["m-1", "absent"]) == 2
    assert await store.lineage.derived_from(["m-1"]) == []
    assert await store.lineage.sources_of(Derived.PASSAGE, ["p-1"]) == {"p-1": ["m-2"]}


async def test_thousands_of_sources_are_looked_up_in_batches(store: Store) -> None:
    sources = [f"m-{i}" for i in range(1_200)]
    await store.lineage.link(
        [
            link
            for i in range(0, 1_200, 3)
            for link in links(Derived.PASSAGE, f"p-{i}", [sources[i]], WS)
        ]
    )
    found = await store.lineage.derived_from(sources)
    assert len(found) == 400
    assert await store.lineage.unlink_sources(sources) == 400
    assert await store.lineage.derived_from(sources) == []


async def test_a_turns_messages_and_its_links_are_written_together(store: Store) -> None:
    said = message("the launch is on Friday")
    answer = message("Friday it is", author="agent")
    derived = links(Derived.MESSAGE, answer.id, [said.id], WS)

    await store.messages.append([said, answer], derived)
    await store.messages.append([said, answer], derived)

    assert await store.lineage.derived_from([said.id]) == [
        DerivedRecord(Derived.MESSAGE, answer.id)
    ]
    assert await store.lineage.sources_of(Derived.MESSAGE, [answer.id]) == {answer.id: [said.id]}
    stored = await store.messages.by_ids([said.id, answer.id])
    assert sorted(m.content for m in stored) == ["Friday it is", "the launch is on Friday"]
