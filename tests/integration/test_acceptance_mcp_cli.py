"""``mnemo mcp`` as an operator scripts it: ``list --check`` fails (exit 1) when a server does
not run, saying why on its line, and a bad server is refused in words an operator reads, not
in the validation library's."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main


@pytest.fixture(autouse=True)
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MNEMO_DATA_DIR", str(tmp_path / "data"))


def test_a_check_with_a_server_that_does_not_run_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = str(tmp_path / "no-such-server")
    assert main(["mcp", "add", "tickets", "--command", missing]) == 0
    capsys.readouterr()

    assert main(["mcp", "list"]) == 0  # listing alone starts nothing
    assert main(["mcp", "list", "--check"]) == 1
    shown = capsys.readouterr().out
    assert f"  not running: the command was not found ({missing})" in shown


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--url", "ftp://tickets"], "mnemo: server: url must start with http:// or https://"),
        (
            ["--url", "https://tickets", "--command", "tickets-mcp"],
            "mnemo: server: give either command (a stdio server) or url (Streamable HTTP)",
        ),
    ],
)
def test_a_bad_server_is_refused_in_one_plain_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], said: str
) -> None:
    assert main(["mcp", "add", "tickets", *argv]) == 2
    assert capsys.readouterr().err == f"{said}\n"
    assert main(["mcp", "list"]) == 0
    assert "no MCP servers" in capsys.readouterr().out


def test_removing_a_server_names_the_agents_that_still_attach_its_tools(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["mcp", "add", "wiki", "--url", "https://wiki.example.com/mcp"]) == 0
    assert main(["agents", "create", "ada", "--model", "tiny"]) == 0
    assert main(["agents", "tools", "attach", "ada", "wiki__*"]) == 0
    capsys.readouterr()

    assert main(["mcp", "remove", "wiki"]) == 0
    assert capsys.readouterr().out == (
        "removed wiki; the bot stops it at its next start; its tools are still attached to "
        "ada and do nothing now (mnemo agents tools detach AGENT TOOL)\n"
    )
