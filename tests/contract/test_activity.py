"""Conversation activity: what background jobs read to find conversations with new messages."""

from __future__ import annotations

from datetime import timedelta

from engine.audience import Scope
from engine.store.protocol import Store
from tests.contract.records import AGENT, BASE_TIME, DM_ALICE, OTHER_PUBLIC, PUBLIC, message


async def test_conversations_since_groups_the_window_by_conversation(store: Store) -> None:
    old = message("before the window", minutes=0, seq=1)
    general = [message(f"g{i}", minutes=10 + i, seq=10 + i) for i in range(3)]
    threaded = message("in a thread", thread="1.5", minutes=12, seq=20)
    private = message("just us", DM_ALICE, minutes=15, seq=30)
    elsewhere = message("other workspace", OTHER_PUBLIC, minutes=40, seq=40)
    await store.messages.append([old, *general, threaded, private, elsewhere])

    found = await store.messages.conversations_since(
        BASE_TIME + timedelta(minutes=5), BASE_TIME + timedelta(minutes=30)
    )
    by_key = {str(a.conversation): a for a in found}
    assert set(by_key) == {
        str(general[0].conversation),
        str(threaded.conversation),
        str(private.conversation),
    }
    channel = by_key[str(general[0].conversation)]
    assert (channel.messages, channel.last_seq, channel.scope) == (3, 12, Scope.workspace())
    assert channel.last_at == general[-1].created_at
    assert by_key[str(private.conversation)].scope == Scope.dm("alice")
    assert channel.conversation.agent_id == AGENT


async def test_conversations_since_without_an_end_reaches_the_newest(store: Store) -> None:
    await store.messages.append([message("a", PUBLIC, minutes=1, seq=1)])
    assert len(await store.messages.conversations_since(BASE_TIME)) == 1
    assert await store.messages.conversations_since(BASE_TIME + timedelta(minutes=1)) == []
