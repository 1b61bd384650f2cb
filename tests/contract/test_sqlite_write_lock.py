"""SQLite only: a write that finds another process holding the file's write lock waits for it
and then succeeds, for transactions and single statements alike."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from engine.store.lineage import Derived, DerivedRecord, links
from engine.store.sqlite import SQLiteStore
from tests.contract.records import WS

#: Long enough for the store's writes to find the lock taken (they wait well past it).
HELD = 0.3


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    opened = SQLiteStore(tmp_path / "shared.sqlite3")
    await opened.setup()
    yield opened
    await opened.close()


async def test_writes_wait_for_another_process_lock_then_land(
    store: SQLiteStore, tmp_path: Path
) -> None:
    other = sqlite3.connect(tmp_path / "shared.sqlite3", isolation_level=None)
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
