"""``mnemo history status``: the operator sees how far each channel's history read got, from
the progress records the bots keep in the store."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli import main
from engine import BackfillLedger, BackfillProgress
from engine.store import SQLITE_FILE_NAME
from engine.store.sqlite import SQLiteStore

BEGAN = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)


async def test_history_status_lists_each_channel_with_its_counts_and_why_one_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    store = SQLiteStore(tmp_path / SQLITE_FILE_NAME)
    await store.setup()
    ledger = BackfillLedger(store.kv)
    general = BackfillProgress(
        "slack", "a1", "slack:T1", "C1", BEGAN, BEGAN, "#general", read=120, stored=97, skipped=23
    )
    await ledger.save(general.finished())
    staff = BackfillProgress("discord", "a1", "discord:9", "42", BEGAN, BEGAN, "#staff", read=100)
    await ledger.save(staff.failed("Discord refused (Missing Access)"))
    await store.close()
    monkeypatch.setenv("MNEMO_DATA_DIR", str(tmp_path))

    assert await asyncio.to_thread(main, ["history", "status"]) == 0
    shown = capsys.readouterr().out.splitlines()

    assert shown[0].split() == [
        "STATE",
        "CHANNEL",
        "WORKSPACE",
        "READ",
        "STORED",
        "SKIPPED",
        "UPDATED",
    ]
    rows = {line.split()[1]: line.split() for line in shown[1:3]}
    assert rows["#general"][:7] == ["done", "#general", "(C1)", "slack:T1", "120", "97", "23"]
    assert rows["#staff"][:4] == ["stopped", "#staff", "(42)", "discord:9"]
    assert shown[3] == "#staff (42) stopped: Discord refused (Missing Access)"

    assert await asyncio.to_thread(main, ["history", "status", "--platform", "slack"]) == 0
    assert "#staff" not in capsys.readouterr().out


async def test_history_status_says_how_a_read_starts_when_there_is_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MNEMO_DATA_DIR", str(tmp_path))

    assert await asyncio.to_thread(main, ["history", "status"]) == 0

    assert "/mnemo learn-channel" in capsys.readouterr().out
