"""Claims on outbox entries: one process delivers a reply at a time, and a crashed one's claim
runs out."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from engine.store.protocol import Store
from engine.store.queues import OutboxStatus
from tests.contract.conftest import OpenReplica
from tests.contract.records import BASE_TIME, reply


async def test_a_claim_excludes_other_holders_until_it_ends(store: Store) -> None:
    first = reply("in-1", 0, "Hello!")
    await store.outbox.put([first])
    assert await store.outbox.claim("absent", "worker-a", 30) is None

    claimed = await store.outbox.claim(first.id, "worker-a", 30)
    assert claimed is not None
    assert (claimed.reply, claimed.status) == (first, OutboxStatus.PENDING)
    assert await store.outbox.claim(first.id, "worker-b", 30) is None
    assert await store.outbox.claim(first.id, "worker-a", 30) == claimed  # again: still ours

    await store.outbox.release(first.id, "worker-b")  # not b's to give back
    assert await store.outbox.claim(first.id, "worker-b", 30) is None
    await store.outbox.release(first.id, "worker-a")
    assert await store.outbox.claim(first.id, "worker-b", 30) is not None

    # A retry scheduled ends the claim; the claim still hands out the entry as it is.
    await store.outbox.retry_later(first.id, BASE_TIME + timedelta(minutes=1), "rate limited")
    retried = await store.outbox.claim(first.id, "worker-a", 30)
    assert retried is not None
    assert (retried.attempts, retried.error) == (1, "rate limited")


async def test_a_settled_reply_is_handed_out_unclaimed(store: Store) -> None:
    first, second = reply("in-1", 0, "Hello!"), reply("in-1", 1, "Bye.")
    await store.outbox.put([first, second])
    assert await store.outbox.claim(first.id, "worker-a", 30) is not None
    await store.outbox.mark_delivered(first.id, "171.9")
    await store.outbox.mark_undeliverable(second.id, "permanent: channel gone")
    for entry_id, status in ((first.id, OutboxStatus.DELIVERED), (second.id, "undeliverable")):
        settled = await store.outbox.claim(entry_id, "worker-b", 30)
        assert settled is not None
        assert settled.status == status


async def test_a_crashed_holders_claim_runs_out(store: Store, open_replica: OpenReplica) -> None:
    other = await open_replica()
    first = reply("in-1", 0, "Hello!")
    await store.outbox.put([first])
    assert await store.outbox.claim(first.id, "crashed", 0.05) is not None
    assert await other.outbox.claim(first.id, "survivor", 30) is None
    await asyncio.sleep(0.15)
    assert await other.outbox.claim(first.id, "survivor", 30) is not None
    assert await store.outbox.claim(first.id, "crashed", 30) is None


async def test_racing_claims_across_handles_get_one_holder(
    store: Store, open_replica: OpenReplica
) -> None:
    first = reply("in-1", 0, "Hello!")
    await store.outbox.put([first])
    handles = [store, await open_replica(), await open_replica()]
    claims = await asyncio.gather(
        *(h.outbox.claim(first.id, f"worker-{i}", 30) for i, h in enumerate(handles))
    )
    assert sum(claim is not None for claim in claims) == 1
