"""``mnemo mcp add`` declares which of a server's tools wait for approval, who decides and
for how long; ``mnemo mcp list`` shows it."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main


@pytest.fixture(autouse=True)
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A store of the test's own; no .env of the working directory."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MNEMO_DATA_DIR", str(tmp_path / "data"))


def test_a_server_added_with_approvals_lists_them(capsys: pytest.CaptureFixture[str]) -> None:
    tickets = ["mcp", "add", "tickets", "--command", "tickets-mcp"]
    approvals = ["--approval", "close", "--approval", "reopen", "--approver", "U-admin"]
    assert main([*tickets, *approvals, "--approval-ttl", "600"]) == 0
    assert main(["mcp", "add", "wiki", "--url", "https://wiki.example.com/mcp"]) == 0
    assert main(["mcp", "add", "ops", "--command", "ops-mcp", "--approval", "all"]) == 0
    capsys.readouterr()
    assert main(["mcp", "list"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed[0].endswith("\tapproval: all by the person who asked within 3600 s")
    assert listed[1].endswith("\tapproval: close, reopen by U-admin within 600 s")
    assert listed[2].endswith("audiences: dm, private, public")

    assert main([*tickets, "--approval", "close", "--approval-ttl", "0"]) == 2
    assert "approval_ttl_s" in capsys.readouterr().err
