"""SQLite only: how writes reach a file other processes share. Links written since the last
bulk move into the source-indexed table are found, counted and removed like the rest; a write
that finds another process holding the write lock waits for it, then lands."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from engine.store.lineage import Derived, DerivedRecord, links
from engine.store.sqlite import SQLiteStore
from engine.store.sqlite.lineage import RECENT_LIMIT
from tests.contract.records import WS

FILE = "shared.sqlite3"
#: Long enough for the store's writes to find the lock taken (they wait well past it).
HELD = 0.3


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    opened = SQLiteStore(tmp_path / FILE)
    await opened.setup()
    yield opened
    await opened.close()


async def test_links_before_and_after_a_bulk_move_are_found_counted_and_removed(
    store: SQLiteStore,
) -> None:
    window = [f"m-{i}" for i in range(RECENT_LIMIT + 10)]
    # Enough links to be moved into the indexed table, then a few that wait for the next move.
    await store.lineage.link(links(Derived.MESSAGE, "reply-1", window, WS))
    await store.lineage.link(links(Derived.PASSAGE, "p-1", ["m-3", "m-new"], WS))
    # Recorded again after the move: still one link each.
    await store.lineage.link(links(Derived.MESSAGE, "reply-1", window[:5], WS))

    assert await store.lineage.derived_from(["m-3"]) == [
        DerivedRecord(Derived.MESSAGE, "reply-1"),
        DerivedRecord(Derived.PASSAGE, "p-1"),
    ]
    assert await store.lineage.sources_of(Derived.PASSAGE, ["p-1"]) == {"p-1": ["m-3", "m-new"]}
    found = await store.lineage.sources_of(Derived.MESSAGE, ["reply-1"])
    assert found == {"reply-1": sorted(window)}

    assert await store.lineage.unlink_sources(["m-3"]) == 2
    assert await store.lineage.derived_from(["m-3"]) == []
    assert await store.lineage.unlink_records(Derived.MESSAGE, ["reply-1"]) == len(window) - 1
    assert await store.lineage.derived_from(window) == []
    assert await store.lineage.derived_from(["m-new"]) == [DerivedRecord(Derived.PASSAGE, "p-1")]


async def test_writes_wait_for_another_process_lock_then_land(
    store: SQLiteStore, tmp_path: Path
) -> None:
    other = sqlite3.connect(tmp_path / FILE, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        statement = asyncio.create_task(store.kv.put("settings", "theme", {"dark": True}))
        transaction = asyncio.create_task(
            store.lineage.link(links(Derived.PASSAGE, "p-1", ["m-1"], WS))
        )
        await asyncio.sleep(HELD)
        assert not statement.done()
        assert not transaction.done()
        other.execute("COMMIT")
        async with asyncio.timeout(10):
            await asyncio.gather(statement, transaction)
    finally:
        other.close()
    assert await store.kv.get("settings", "theme") == {"dark": True}
    assert await store.lineage.derived_from(["m-1"]) == [DerivedRecord(Derived.PASSAGE, "p-1")]
