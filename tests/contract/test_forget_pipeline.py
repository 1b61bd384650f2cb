"""Forgetting a user blanks the pipeline's copies of their words and of the replies to them,
and nothing else; items stay, so a platform's retry of a forgotten message is still a retry."""

from __future__ import annotations

from dataclasses import replace

from engine.records import Author, Outbound, new_id
from engine.store.protocol import Store
from engine.store.queues import InboxItem, InboxStatus
from tests.contract.records import AGENT, DM_ALICE, DM_BOB, OTHER_PUBLIC, WS, inbox_item


def _by(item: InboxItem, author: str) -> InboxItem:
    return replace(item, inbound=replace(item.inbound, author=Author(author, author)))


def _reply(item: InboxItem, text: str) -> Outbound:
    inbound = item.inbound
    return Outbound(
        id=new_id(),
        inbox_id=item.id,
        platform=inbound.platform,
        agent_id=AGENT,
        workspace=inbound.workspace,
        channel=inbound.channel,
        thread="",
        text=text,
    )


async def test_redact_user_blanks_their_settled_items_and_the_replies_to_them(
    store: Store,
) -> None:
    said_in_public = inbox_item("E1", text="alice in public")
    said_in_dm = inbox_item("E2", audience=DM_ALICE, text="alice in her DM")
    agent_in_her_dm = _by(inbox_item("E3", audience=DM_ALICE, text="agent, DM"), "agent-2")
    still_pending = inbox_item("E4", text="alice, not yet answered")
    bobs = _by(inbox_item("E5", text="bob in public"), "bob")
    bobs_dm = _by(inbox_item("E6", audience=DM_BOB, text="bob in his DM"), "bob")
    elsewhere = inbox_item("E7", audience=OTHER_PUBLIC, text="alice in T2")
    items = [said_in_public, said_in_dm, agent_in_her_dm, still_pending, bobs, bobs_dm, elsewhere]
    for item in items:
        assert await store.inbox.put(item)
        if item is not still_pending:
            await store.inbox.mark(item.id, InboxStatus.DONE)
    replies = {item.id: _reply(item, f"reply to {item.inbound.text}") for item in items}
    await store.outbox.put(list(replies.values()))
    for item in items:
        if item is not said_in_dm:
            await store.outbox.mark_delivered(replies[item.id].id, "ref")

    redacted = await store.inbox.redact_user(WS, "alice")

    forgotten = {said_in_public.id, said_in_dm.id, agent_in_her_dm.id}
    assert set(redacted) == forgotten
    for item in items:
        stored = await store.inbox.get(item.id)
        assert stored is not None
        expected = "" if item.id in forgotten else item.inbound.text
        assert (stored.inbound.text, stored.inbound.event_id) == (
            expected,
            item.inbound.event_id,
        )
    # Delivered replies to forgotten items go blank; one still waiting to be sent is kept.
    assert await store.outbox.redact(redacted) == 2
    for item in items:
        (entry,) = await store.outbox.for_inbox(item.id)
        blank = item.id in forgotten and item is not said_in_dm
        assert (entry.reply.text == "") is blank
    assert not await store.inbox.put(inbox_item("E1")), "a retry is still recognised"
