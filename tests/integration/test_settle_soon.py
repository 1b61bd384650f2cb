"""Platform deletions settle the store soon after, off the intake path: a burst costs one
settle, and whatever waits is settled at stop, so the deleted words leave the files."""

from __future__ import annotations

import asyncio
from pathlib import Path

from engine.forgetting import Forgetting, SettleSoon
from engine.store.sqlite import SQLiteStore
from tests.contract.records import PUBLIC, WS, message
from tests.integration.test_forget_complete import database_files

WORD = "quetzalcoatlus"


class CountingStore(SQLiteStore):
    """The embedded store, counting its settles."""

    settles = 0

    async def settle_forget(self) -> None:
        self.settles += 1
        await super().settle_forget()


async def _store(tmp_path: Path) -> CountingStore:
    store = CountingStore(tmp_path / "mnemo.sqlite3")
    await store.setup()
    return store


async def test_a_burst_of_deletions_settles_once(tmp_path: Path) -> None:
    store = await _store(tmp_path)
    soon = SettleSoon(store, delay=0.05)
    for _ in range(20):
        soon.request()
    await asyncio.sleep(0.3)
    assert store.settles == 1
    soon.request()
    await asyncio.sleep(0.3)
    assert store.settles == 2
    await store.close()


async def test_a_deleted_message_leaves_the_files_once_settled_at_stop(tmp_path: Path) -> None:
    store = await _store(tmp_path)
    await store.messages.append([message(f"my word is {WORD}", platform_ref="9.1")])
    await store.settle_forget()
    assert any(WORD.encode() in p.read_bytes() for p in database_files(store.path))

    await Forgetting(store).platform_delete(WS, PUBLIC.channel, "9.1")
    soon = SettleSoon(store, delay=60.0)
    soon.request()
    await soon.flush()
    await store.close()

    assert not any(WORD.encode() in p.read_bytes() for p in database_files(store.path))
