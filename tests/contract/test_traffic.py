"""Inbox, outbox and leases: what makes a crash lose nothing and post nothing twice."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from engine.records import InboundKind
from engine.store.protocol import Store
from engine.store.queues import InboxStatus, OutboxStatus
from tests.contract.conftest import OpenReplica
from tests.contract.records import BASE_TIME, OTHER_PUBLIC, inbox_item, reply


async def test_inbox_dedupes_by_event_id_and_by_message_seen_twice(store: Store) -> None:
    assert await store.inbox.put(inbox_item("Ev1", message_ref="171.1"))
    assert not await store.inbox.put(inbox_item("Ev1", message_ref="999.9"))
    assert not await store.inbox.put(inbox_item("Ev2", message_ref="171.1"))
    assert await store.inbox.put(inbox_item("Ev3", message_ref="171.1", kind=InboundKind.EDIT))
    assert await store.inbox.put(inbox_item("Ev4", message_ref="171.1", audience=OTHER_PUBLIC))
    assert await store.inbox.put(inbox_item("Ev5"))
    assert await store.inbox.put(inbox_item("Ev6"))
    assert await store.inbox.depth() == 5


async def test_inbox_round_trips_and_hands_out_items_in_arrival_order(store: Store) -> None:
    late = inbox_item("E3", conversation="conv-a", seq=30)
    early = inbox_item("E1", conversation="conv-a", seq=10)
    middle = inbox_item("E2", conversation="conv-a", seq=20)
    other = inbox_item("E0", conversation="conv-b", seq=5)
    for item in (late, early, middle, other):
        assert await store.inbox.put(item)

    assert await store.inbox.get(early.id) == early
    assert await store.inbox.get("missing") is None
    assert await store.inbox.pending_conversations(10) == ["conv-b", "conv-a"]
    assert [i.id for i in await store.inbox.pending("conv-a", 2)] == [early.id, middle.id]

    await store.inbox.mark(other.id, InboxStatus.DONE)
    await store.inbox.mark(early.id, InboxStatus.FAILED, "model down")
    assert await store.inbox.pending_conversations(10) == ["conv-a"]
    assert [i.id for i in await store.inbox.pending("conv-a", 10)] == [middle.id, late.id]
    failed = await store.inbox.get(early.id)
    assert failed is not None
    assert (failed.status, failed.error) == (InboxStatus.FAILED, "model down")
    assert await store.inbox.depth() == 2

    assert await store.inbox.record_attempt(middle.id) == 1
    assert await store.inbox.record_attempt(middle.id) == 2
    attempted = await store.inbox.get(middle.id)
    assert attempted is not None
    assert attempted.attempts == 2


async def test_rejected_events_are_kept_newest_first(store: Store) -> None:
    await store.inbox.put_rejected("slack", {"type": "weird", "n": 1}, "unknown event type")
    await store.inbox.put_rejected("discord", {"op": 99}, "bad opcode")
    kept = await store.inbox.rejected(10)
    assert [(r["platform"], r["raw"], r["error"]) for r in kept] == [
        ("discord", {"op": 99}, "bad opcode"),
        ("slack", {"type": "weird", "n": 1}, "unknown event type"),
    ]
    assert len(await store.inbox.rejected(1)) == 1


async def test_outbox_is_idempotent_and_retries_on_schedule(store: Store) -> None:
    first, second = reply("in-1", 0, "Hello!", minutes=0), reply("in-1", 1, "More.", minutes=1)
    await store.outbox.put([first, second])
    await store.outbox.put([reply("in-1", 0, "Hello again (replayed turn)")])

    entries = await store.outbox.for_inbox("in-1")
    assert [e.reply for e in entries] == [first, second]
    assert all(e.status is OutboxStatus.PENDING and e.attempts == 0 for e in entries)

    now = BASE_TIME + timedelta(minutes=5)
    assert [e.reply.id for e in await store.outbox.due(now, 10)] == [first.id, second.id]

    await store.outbox.retry_later(first.id, now + timedelta(minutes=10), "rate limited")
    assert [e.reply.id for e in await store.outbox.due(now, 10)] == [second.id]
    later = await store.outbox.due(now + timedelta(minutes=11), 10)
    assert [e.reply.id for e in later] == [first.id, second.id]
    assert (later[0].attempts, later[0].error) == (1, "rate limited")
    assert later[0].next_attempt_at == now + timedelta(minutes=10)

    await store.outbox.mark_delivered(second.id, "171.9")
    assert [e.reply.id for e in await store.outbox.due(now + timedelta(hours=1), 10)] == [first.id]
    delivered = (await store.outbox.for_inbox("in-1"))[1]
    assert (delivered.status, delivered.platform_ref) == (OutboxStatus.DELIVERED, "171.9")
    assert await store.outbox.for_inbox("in-2") == []


async def test_a_held_lease_excludes_others_until_released(store: Store) -> None:
    assert await store.leases.acquire("conv-1", "worker-a", 30)
    assert not await store.leases.acquire("conv-1", "worker-b", 30)
    assert await store.leases.acquire("conv-1", "worker-a", 30)
    assert await store.leases.renew("conv-1", "worker-a", 30)
    assert not await store.leases.renew("conv-1", "worker-b", 30)

    await store.leases.release("conv-1", "worker-b")
    assert not await store.leases.acquire("conv-1", "worker-b", 30)
    await store.leases.release("conv-1", "worker-a")
    assert await store.leases.acquire("conv-1", "worker-b", 30)
    assert await store.leases.acquire("conv-2", "worker-a", 30)


async def test_an_expired_lease_is_taken_over_and_its_old_holder_cannot_renew(
    store: Store, open_replica: OpenReplica
) -> None:
    other = await open_replica()
    assert await store.leases.acquire("job", "crashed", 0.05)
    assert not await other.leases.acquire("job", "survivor", 30)
    await asyncio.sleep(0.15)
    assert await other.leases.acquire("job", "survivor", 30)
    assert not await store.leases.renew("job", "crashed", 30)
    assert not await store.leases.acquire("job", "crashed", 30)


async def test_racing_takers_across_handles_get_one_holder(
    store: Store, open_replica: OpenReplica
) -> None:
    handles = [store, await open_replica(), await open_replica()]
    won = await asyncio.gather(
        *(h.leases.acquire("conv-9", f"worker-{i}", 30) for i, h in enumerate(handles))
    )
    assert won.count(True) == 1
