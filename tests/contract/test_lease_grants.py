"""What taking a lease tells its taker (a crashed holder's expired lease), and what giving it
back tells its holder (someone else was refused it meanwhile)."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

from engine.store.protocol import Store
from engine.store.queues import InboxStatus, LeaseGrant
from tests.contract.conftest import OpenReplica, upgraded_sqlite
from tests.contract.records import inbox_item


async def test_taking_a_lease_says_whether_another_holder_left_it_unreleased(
    store: Store, open_replica: OpenReplica
) -> None:
    other = await open_replica()
    assert await store.leases.take("conv-1", "crashed", 0.05) is LeaseGrant.FREE
    assert await store.leases.take("conv-1", "crashed", 0.05) is LeaseGrant.FREE  # its own
    assert await other.leases.take("conv-1", "survivor", 30) is LeaseGrant.REFUSED
    await asyncio.sleep(0.15)
    assert await other.leases.take("conv-1", "survivor", 30) is LeaseGrant.TAKEN_OVER

    await other.leases.release("conv-1", "survivor")
    assert await store.leases.take("conv-1", "next", 30) is LeaseGrant.FREE


async def test_giving_a_lease_back_says_whether_someone_was_refused_it(store: Store) -> None:
    assert await store.leases.take("conv-1", "worker-a", 30) is LeaseGrant.FREE
    assert await store.leases.release("conv-1", "worker-a") is False

    assert await store.leases.take("conv-1", "worker-a", 30) is LeaseGrant.FREE
    assert not await store.leases.acquire("conv-1", "worker-b", 30)
    assert await store.leases.release("conv-1", "worker-b") is False  # not b's
    assert await store.leases.release("conv-1", "worker-a") is True

    # Taken again, the lease starts with nobody waiting for it.
    assert await store.leases.take("conv-1", "worker-b", 30) is LeaseGrant.FREE
    assert await store.leases.release("conv-1", "worker-b") is False


async def test_a_failed_attempt_is_counted_with_its_error_and_the_item_stays_pending(
    store: Store,
) -> None:
    item = inbox_item("E1")
    assert await store.inbox.put(item)
    await store.inbox.record_failure(item.id, "the model exploded")
    await store.inbox.record_failure(item.id, "the model exploded again")
    stored = await store.inbox.get(item.id)
    assert stored is not None
    assert (stored.status, stored.attempts, stored.error) == (
        InboxStatus.PENDING,
        2,
        "the model exploded again",
    )


async def test_sqlite_file_from_before_keeps_its_leases_and_notes_refusals(
    tmp_path: Path,
) -> None:
    path = tmp_path / "mnemo.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE leases (name TEXT PRIMARY KEY, holder TEXT, expires REAL)")
        conn.execute("INSERT INTO leases VALUES ('conv-1', 'worker-a', ?)", (time.time() + 60,))
    conn.close()
    store = await upgraded_sqlite(path)
    try:
        assert await store.leases.take("conv-1", "worker-b", 30) is LeaseGrant.REFUSED
        assert await store.leases.release("conv-1", "worker-a") is True
    finally:
        await store.close()
