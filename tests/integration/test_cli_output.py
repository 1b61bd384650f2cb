"""What ``mnemo`` prints in a terminal, as someone following the README would see it."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from bot.cli import TERMINAL_USER, main
from bot.terminal_text import memory_report_text
from engine import Scope, UserMemoryReport
from tests.fakes.openai_server import FakeOpenAI

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A store of the test's own; no .env of the working directory."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MNEMO_DATA_DIR", str(tmp_path / "data"))


def test_help_is_plain_text_and_every_command_says_what_it_does(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for command in ([], ["run"], ["chat"], ["memory"]):
        with pytest.raises(SystemExit):
            main([*command, "--help"])
        shown = capsys.readouterr().out
        assert "``" not in shown
        description = shown.split("\n\n")[1]
        assert not description.startswith(("positional arguments", "options")), command


def test_the_readme_shows_the_terminal_user_everywhere() -> None:
    readme = (REPO / "README.md").read_text()
    users = set(re.findall(r"mnemo (?:chat|memory \w+)[^\n#]*--user (\w+)", readme))

    assert users <= {TERMINAL_USER}


def test_agents_list_has_a_header_and_the_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["agents", "create", "ada", "--model", "tiny"]) == 0
    assert main(["agents", "tools", "detach", "ada", "archival_memory_insert"]) == 0
    capsys.readouterr()

    assert main(["agents", "list"]) == 0

    header, row = capsys.readouterr().out.splitlines()
    assert header.split() == ["NAME", "VERSION", "MODEL", "TAGS", "ID"]
    assert row.split()[:4] == ["ada", "2", "tiny", "-"]


def test_memory_show_defaults_to_the_terminal_user(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["memory", "show"]) == 0

    shown = capsys.readouterr().out
    assert shown.startswith(f"What Mnemo keeps about {TERMINAL_USER} ")


def test_memory_report_is_plain_text() -> None:
    report = UserMemoryReport(
        workspace="console:local",
        user="you",
        blocks=(("human", Scope.dm("you"), "Likes green tea."),),
        passages=tuple(f"note {n}" for n in range(25)),
        messages=7,
    )

    text = memory_report_text(report)

    assert not re.search(r"[*•]|\b_|_\b", text)
    assert "  - human (only in our DM): Likes green tea." in text
    assert "  - note 19" in text
    assert "note 20" not in text
    assert "... and 5 more" in text
    assert text.endswith("Messages remembered: 7")


def test_forget_says_what_was_deleted_in_words(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["memory", "forget", "--user", "quinn", "--yes"]) == 0

    said = capsys.readouterr().out.strip()
    assert said == "Nothing was kept about quinn in console:local; nothing deleted."


async def test_consolidate_with_nothing_due_names_the_idle_rule(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MNEMO_JOBS_IDLE_MINUTES", "7")
    async with FakeOpenAI() as llm:
        monkeypatch.setenv("OPENAI_BASE_URL", llm.base_url)

        assert await asyncio.to_thread(main, ["jobs", "run", "consolidate"]) == 0

    said = capsys.readouterr().out
    assert "quiet for 7 minutes (MNEMO_JOBS_IDLE_MINUTES)" in said
    assert "(MNEMO_JOBS_LOOKBACK_HOURS)" in said
