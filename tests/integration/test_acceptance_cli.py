"""``mnemo sources`` as a new operator first runs it: on a fresh store (the default agent not
created yet) it teaches the default agent, and a workspace named the way Slack or Discord
shows it (not as Mnemo names it) is refused in one line instead of teaching a workspace that
no conversation reads."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.cli import main
from engine import open_store

GUIDE = "# Guide\n\n## Leave\n\nThirty days a year.\n"


@pytest.fixture
def guide(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MNEMO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("MNEMO_AGENT", raising=False)
    path = tmp_path / "guide.md"
    path.write_text(GUIDE)
    return path


async def mnemo(*argv: str) -> int:
    return await asyncio.to_thread(main, list(argv))


async def documents(tmp_path: Path) -> list[str]:
    store = await open_store(mongodb_uri=None, data_dir=tmp_path / "data")
    try:
        agent = await store.agents.by_name("mnemo")
        return [] if agent is None else [d.name for d in await store.sources.documents(agent.id)]
    finally:
        await store.close()


async def test_a_fresh_install_teaches_the_default_agent(
    guide: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await mnemo("sources", "list") == 0
    assert capsys.readouterr().out.startswith("mnemo has no documents")

    assert await mnemo("sources", "add", str(guide)) == 0
    assert capsys.readouterr().out.startswith("added guide.md: 1 chunks")
    assert await documents(tmp_path) == ["guide.md"]


async def test_a_named_agent_that_does_not_exist_is_still_refused(
    guide: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await mnemo("sources", "add", str(guide), "--agent", "ghost") == 1
    assert capsys.readouterr().err == ("mnemo: no agent called 'ghost' (see `mnemo agents list`)\n")


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--workspace", "T0123"], "--workspace 'T0123': write slack:T0123"),
        (
            ["--workspace", "discord:998877", "--audience", "dm:42"],
            "--audience dm:42: a person's Discord DMs are their own workspace; "
            "use --workspace discord:dm:42",
        ),
    ],
)
async def test_a_workspace_no_conversation_reads_is_refused_in_one_line(
    guide: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    said: str,
) -> None:
    assert await mnemo("sources", "add", str(guide), *argv) == 2
    shown = capsys.readouterr()
    assert shown.out == ""
    assert len(shown.err.splitlines()) == 1
    assert shown.err.startswith(f"mnemo: {said}")
    assert await documents(tmp_path) == []


@pytest.mark.parametrize(
    ("argv", "said", "status"),
    [
        (["--max-mb", "0"], "mnemo: --max-mb 0: give a size above 0 (MiB)", 2),
        (["--max-mb=-1"], "mnemo: --max-mb -1: give a size above 0 (MiB)", 2),
        (["{empty}"], "mnemo: {empty}: no file to read there (in folders Mnemo reads .md, ", 1),
    ],
)
async def test_nothing_to_add_is_said_in_one_line_and_fails(
    guide: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    said: str,
    status: int,
) -> None:
    empty = tmp_path / "empty"
    (empty / "sub").mkdir(parents=True)
    (empty / "photo.png").write_bytes(b"png")
    argv = [a.format(empty=empty) for a in argv]
    paths = argv if argv[0] == str(empty) else [str(guide), *argv]
    assert await mnemo("sources", "add", *paths) == status
    shown = capsys.readouterr()
    assert shown.out == ""
    assert len(shown.err.splitlines()) == 1
    assert shown.err.startswith(said.format(empty=empty))
    assert await documents(tmp_path) == []


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["sources", "add", "--workspace", "test:W1", "{guide}"], "added guide.md: 1 chunks"),
        (["mcp", "add", "--url", "https://wiki.example.com/mcp", "wiki"], "wiki (version 1)"),
        (["memory", "why", "--channel", "general", "leave"], ""),
    ],
)
async def test_options_may_come_before_an_actions_arguments(
    guide: Path, capsys: pytest.CaptureFixture[str], argv: list[str], said: str
) -> None:
    assert await mnemo(*(a.format(guide=guide) for a in argv)) == 0
    shown = capsys.readouterr()
    assert shown.err == ""
    assert shown.out.startswith(said)


async def test_documents_of_another_workspace_are_pointed_at_from_the_terminals(
    guide: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await mnemo("sources", "add", str(guide), "--workspace", "slack:T0123") == 0
    capsys.readouterr()

    assert await mnemo("sources", "list") == 0
    assert capsys.readouterr().out == (
        "mnemo has no documents in console:local; it has some in slack:T0123 "
        "(list them with --workspace slack:T0123).\n"
    )
    assert await mnemo("sources", "show", "guide.md") == 1
    assert capsys.readouterr().err == (
        "mnemo: mnemo has no document 'guide.md' in console:local (add --workspace slack:T0123)\n"
    )
    assert await mnemo("sources", "show", "guide.md", "--workspace", "slack:T0123") == 0
    assert "readable by workspace in slack:T0123" in capsys.readouterr().out
