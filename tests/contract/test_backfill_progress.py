"""Channel history progress: what a read saved after its last page comes back whole, per
channel and agent, on every store, so a restart continues from it."""

from __future__ import annotations

from datetime import timedelta

from engine.history import BackfillLedger, BackfillProgress
from engine.store.protocol import Store
from tests.contract.records import BASE_TIME, OTHER_WS, WS


async def test_progress_comes_back_as_saved_and_lists_most_recent_first(store: Store) -> None:
    ledger = BackfillLedger(store.kv)
    assert await ledger.get("slack", "a1", WS, "C1") is None
    general = BackfillProgress("slack", "a1", WS, "C1", BASE_TIME, BASE_TIME, "#general")
    moved = general.advanced("1700000000.000100", read=200, stored=180, skipped=20)
    await ledger.save(moved)
    other = BackfillProgress("discord", "a1", OTHER_WS, "42", BASE_TIME, BASE_TIME)
    await ledger.save(other.failed("Discord refused (Missing Access)"))

    found = await ledger.get("slack", "a1", WS, "C1")

    assert found == moved
    assert found is not None
    assert (found.cursor, found.read, found.stored, found.skipped) == (
        "1700000000.000100",
        200,
        180,
        20,
    )
    assert await ledger.get("slack", "a2", WS, "C1") is None  # another agent's read of it
    listed = await ledger.all()
    assert [p.channel for p in listed] == ["42", "C1"]  # the one that moved last first
    assert {p.key: p.state for p in listed} == {moved.key: "reading", other.key: "stopped"}


async def test_a_finished_read_replaces_its_progress(store: Store) -> None:
    ledger = BackfillLedger(store.kv)
    began = BASE_TIME - timedelta(days=1)
    progress = BackfillProgress("slack", "a1", WS, "C1", began, began).advanced("1.0", 3, 2, 1)
    await ledger.save(progress)

    await ledger.save(progress.finished())

    [done] = await ledger.all()
    assert (done.state, done.read, done.started_at) == ("done", 3, began)
