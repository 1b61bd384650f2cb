"""Delivery ledgers, and replies a platform refused for good: settled, never due again."""

from __future__ import annotations

from datetime import timedelta

from engine.store.protocol import Store
from engine.store.queues import OutboxStatus
from engine.store.state import DeliveryLedger
from tests.contract.records import BASE_TIME, reply


def ledger(reply_id: str, *posted: str, days: float = 0) -> DeliveryLedger:
    return DeliveryLedger(reply_id, "slack", "C1", posted, BASE_TIME + timedelta(days=days))


async def test_a_ledger_grows_as_parts_are_posted(store: Store) -> None:
    assert await store.deliveries.get("r-1") is None
    await store.deliveries.put(ledger("r-1"))
    assert await store.deliveries.get("r-1") == ledger("r-1")
    await store.deliveries.put(ledger("r-1", "171.1", "171.2"))
    assert await store.deliveries.get("r-1") == ledger("r-1", "171.1", "171.2")


async def test_old_ledgers_are_pruned(store: Store) -> None:
    await store.deliveries.put(ledger("old", "1.1", days=-9))
    await store.deliveries.put(ledger("recent", "2.1", days=-1))
    assert await store.deliveries.prune(BASE_TIME - timedelta(days=7)) == 1
    assert await store.deliveries.get("old") is None
    assert await store.deliveries.get("recent") == ledger("recent", "2.1", days=-1)
    assert await store.deliveries.prune(BASE_TIME - timedelta(days=7)) == 0


async def test_an_undeliverable_reply_is_settled_with_its_error(store: Store) -> None:
    refused, later = reply("in-1", 0, "to a deleted channel"), reply("in-1", 1, "and more")
    await store.outbox.put([refused, later])
    await store.outbox.mark_undeliverable(refused.id, "permanent: channel_not_found")

    first, second = await store.outbox.for_inbox("in-1")
    assert first.status is OutboxStatus.UNDELIVERABLE
    assert (first.error, first.attempts) == ("permanent: channel_not_found", 1)
    assert second.status is OutboxStatus.PENDING
    far_future = BASE_TIME + timedelta(days=365 * 100)
    assert [e.reply.id for e in await store.outbox.due(far_future, 10)] == [later.id]

    # Settled: neither a retry nor a second refusal changes it.
    await store.outbox.retry_later(refused.id, BASE_TIME, "retry")
    await store.outbox.mark_undeliverable(refused.id, "again")
    (first, _) = await store.outbox.for_inbox("in-1")
    assert (first.status, first.error, first.attempts) == (
        OutboxStatus.UNDELIVERABLE,
        "permanent: channel_not_found",
        1,
    )
