"""The inspector's ``/history``: each channel history read and the totals, for the operator."""

from __future__ import annotations

from datetime import UTC, datetime

from engine import BackfillLedger, BackfillProgress
from tests.integration.test_inspector_api import Inspector, inspector

__all__ = ["inspector"]

BEGAN = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)


async def test_history_lists_each_channel_read_and_the_totals(inspector: Inspector) -> None:
    assert (await inspector.get("/history"))["totals"]["channels"] == 0
    ledger = BackfillLedger(inspector.bot.runtime.store.kv)
    general = BackfillProgress(
        "slack", "a1", "slack:T1", "C1", BEGAN, BEGAN, "#general", read=120, stored=97, skipped=23
    )
    await ledger.save(general.finished())
    await ledger.save(BackfillProgress("discord", "a1", "discord:9", "42", BEGAN, BEGAN, read=100))

    found = await inspector.get("/history")

    assert found["totals"] == {
        "channels": 2,
        "reading": 1,
        "read": 220,
        "stored": 97,
        "skipped": 23,
    }
    by_channel = {c["channel"]: c for c in found["channels"]}
    assert by_channel["C1"]["state"] == "done"
    assert by_channel["C1"]["channel_name"] == "#general"
    assert by_channel["42"]["state"] == "reading"
