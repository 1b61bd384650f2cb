"""A message deleted or edited on the platform takes what was derived from it (its old text)
with it; what came from other messages stays."""

from __future__ import annotations

from dataclasses import replace

from engine.forgetting import Forgetting
from engine.store.lineage import Derived, block_line_id, links
from engine.store.protocol import Store
from engine.store.queues import InboxStatus
from tests.contract import records
from tests.contract.records import PUBLIC, WS, axis, block, message, passage, visible_to


async def _scene(store: Store) -> tuple[str, str, str, str]:
    """Alice's message (ref 17.1, received as an inbox item and answered) and Bob's, a passage
    from each, and a block line from hers; returns the ids of her passage, Bob's passage, the
    block and her message."""
    item = records.inbox_item("ev-1", message_ref="17.1", text="the launch is on Friday")
    await store.inbox.put(item)
    await store.inbox.mark(item.id, InboxStatus.DONE)
    answer = records.reply(item.id, 0, "Friday it is")
    await store.outbox.put([answer])
    await store.outbox.mark_delivered(answer.id, "17.5")
    hers = replace(message("the launch is on Friday", platform_ref="17.1"), id=item.id)
    his = message("the venue is the roof", author="bob", platform_ref="17.2")
    await store.messages.append([hers, his])
    from_hers, from_his = passage("launch on Friday"), passage("venue: the roof")
    await store.passages.insert([from_hers, from_his])
    notes = await store.blocks.create(block("channel", "Launch: Friday\nVenue: roof"))
    await store.lineage.link(
        links(Derived.PASSAGE, from_hers.id, [hers.id], WS)
        + links(Derived.PASSAGE, from_his.id, [his.id], WS)
        + links(Derived.BLOCK_LINE, block_line_id(notes.id, "Launch: Friday"), [hers.id], WS)
    )
    return from_hers.id, from_his.id, notes.id, hers.id


async def test_a_platform_delete_takes_what_was_derived_from_the_message(store: Store) -> None:
    hers, his, notes, said = await _scene(store)

    report = await Forgetting(store).platform_delete(WS, PUBLIC.channel, "17.1")

    assert (report.messages, report.passages, report.block_lines) == (1, 1, 1)
    assert (report.inbox, report.outbox) == (1, 1)
    assert await _received_text(store, said) == ("", "")
    assert await store.passages.get(hers) is None
    assert await store.passages.get(his) is not None
    stored = await store.blocks.get(notes)
    assert stored is not None
    assert stored.value == "Venue: roof"
    assert [m.author for m in await store.messages.list(visible_to(PUBLIC), 10)] == ["bob"]
    assert await store.lineage.derived_from([hers]) == []


async def test_an_edit_drops_what_came_from_the_old_text(store: Store) -> None:
    hers, his, notes, said = await _scene(store)

    edited, report = await Forgetting(store).platform_edit(
        WS, PUBLIC.channel, "17.1", "the launch moved to Monday"
    )

    assert edited == 1
    assert (report.passages, report.block_lines) == (1, 1)
    assert await _received_text(store, said) == ("", "")
    assert await store.passages.get(hers) is None
    assert await store.passages.get(his) is not None
    contents = {m.content for m in await store.messages.list(visible_to(PUBLIC), 10)}
    assert contents == {"the launch moved to Monday", "the venue is the roof"}
    stored = await store.blocks.get(notes)
    assert stored is not None
    assert stored.value == "Venue: roof"
    assert await store.passages.search_text(visible_to(PUBLIC), "Friday", 5) == []


async def test_an_unknown_message_changes_nothing(store: Store) -> None:
    *_, said = await _scene(store)
    report = await Forgetting(store).platform_delete(WS, PUBLIC.channel, "99.9")
    assert report.total == 0
    assert await _received_text(store, said) == ("the launch is on Friday", "Friday it is")


async def _received_text(store: Store, item_id: str) -> tuple[str, str]:
    """The text of the inbox's copy of Alice's message, and of the reply sent to it."""
    stored = await store.inbox.get(item_id)
    [sent] = await store.outbox.for_inbox(item_id)
    assert stored is not None
    return stored.inbound.text, sent.reply.text


async def test_an_edited_message_loses_the_embedding_of_its_old_text(store: Store) -> None:
    edited = message("the launch is on Friday", platform_ref="17.1")
    kept = message("the venue is the roof", author="bob", platform_ref="17.2")
    await store.messages.append([edited, kept])
    await store.messages.set_embeddings([(edited.id, axis(1)), (kept.id, axis(1))])
    where = visible_to(PUBLIC)
    assert len(await store.messages.search_vector(where, axis(1), 5)) == 2

    assert await store.messages.edit(WS, PUBLIC.channel, "17.1", "the launch moved") == 1

    assert [hit.record.id for hit in await store.messages.search_vector(where, axis(1), 5)] == [
        kept.id
    ]
