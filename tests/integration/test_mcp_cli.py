"""``mnemo mcp``: servers added, checked, attached and removed from a terminal, with secrets
only ever named."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bot.cli import main
from tests.fakes.mcp_server import SECRET_VARIABLE


@pytest.fixture(autouse=True)
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A store of the test's own; no .env of the working directory."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MNEMO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).resolve().parents[2]))


def test_a_server_is_added_checked_attached_and_removed(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_SECRET", "from the bot's environment")
    added = ["mcp", "add", "fake", "--command", sys.executable, "--arg=-m"]
    added += ["--arg", "tests.fakes.mcp_server", "--env", f"{SECRET_VARIABLE}=FAKE_SECRET"]
    # The server sees no variable of the bot's unless named: not even where the fake lives.
    added += ["--env", "PYTHONPATH=PYTHONPATH"]
    assert main([*added, "--audience", "public"]) == 0
    assert "fake (version 1) added" in capsys.readouterr().out

    assert main(["mcp", "list", "--check"]) == 0
    listed = capsys.readouterr().out
    assert "fake\tversion 1\tstdio\t" in listed
    assert "audiences: public" in listed
    assert "  fake__add\n" in listed
    assert "from the bot's environment" not in listed

    assert main(["agents", "create", "ada", "--model", "tiny"]) == 0
    assert main(["agents", "tools", "attach", "ada", "fake__*"]) == 0
    assert "fake__*" in capsys.readouterr().out

    assert main(["mcp", "remove", "fake"]) == 0
    assert main(["mcp", "list"]) == 0
    assert "no MCP servers" in capsys.readouterr().out
    assert main(["agents", "tools", "attach", "ada", "fake__add"]) == 1


def test_a_secret_in_place_of_a_variable_name_is_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = ["mcp", "add", "wiki", "--url", "https://wiki.example.com/mcp"]
    assert main([*url, "--header", "Authorization=Bearer s3cr3t"]) == 2
    assert "never the value itself" in capsys.readouterr().err
    assert main(["mcp", "list"]) == 0
    assert "no MCP servers" in capsys.readouterr().out
