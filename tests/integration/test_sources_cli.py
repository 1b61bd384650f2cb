"""``mnemo sources``: adding files prints one line each (failures on standard error, the next
file still read, a non-zero exit), and list, show and remove work on what was added."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.cli import main
from engine import Agent, open_store
from tests.fakes.pdf_files import pdf_bytes

GUIDE = "# Guide\n\nWelcome.\n\n## Leave\n\nThirty days a year.\n"


@pytest.fixture
async def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An agent called ada (the default one), and a folder of good and bad files."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MNEMO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MNEMO_AGENT", "ada")
    store = await open_store(mongodb_uri=None, data_dir=tmp_path / "data")
    try:
        await store.agents.put(Agent("agent-1", "ada", "tiny", "", ()))
    finally:
        await store.close()
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "guide.md").write_text(GUIDE)
    (folder / "handbook.pdf").write_bytes(pdf_bytes([["Page one."], ["Page two."]], "Handbook"))
    (folder / "photo.txt").write_bytes(bytes(range(256)) * 4)
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4\ngarbage")
    (folder / "huge.html").write_text("<p>" + "word " * 300_000 + "</p>")
    return folder


async def mnemo(*argv: str) -> int:
    return await asyncio.to_thread(main, list(argv))


async def test_add_reads_every_file_and_reports_each_failure_in_one_line(
    files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = await mnemo(
        "sources", "add", str(files / "photo.txt"), str(files / "guide.md"),
        str(files / "broken.pdf"), str(files / "huge.html"), str(files / "slides.key"),
        str(files / "handbook.pdf"), "--agent", "ada", "--max-mb", "1",
    )  # fmt: skip
    assert status == 1
    shown = capsys.readouterr()
    assert shown.out.splitlines() == [
        "added guide.md: 2 chunks",
        "added handbook.pdf: 2 chunks",
        shown.out.splitlines()[-1],
    ]
    assert shown.out.splitlines()[-1].startswith("6 files: 2 added, 4 failed; 4 chunks stored in")
    errors = shown.err.splitlines()
    assert len(errors) == 4
    assert errors[0].startswith(f"mnemo: {files / 'photo.txt'}: is not UTF-8 text")
    assert errors[1].startswith(f"mnemo: {files / 'broken.pdf'}: is a damaged PDF")
    assert errors[2].startswith(f"mnemo: {files / 'huge.html'}: is 1.4 MiB, over the 1 MiB limit")
    assert errors[3] == f"mnemo: {files / 'slides.key'}: does not exist"

    assert await mnemo("sources", "list", "--agent", "ada") == 0
    listed = capsys.readouterr().out
    assert "  guide.md  markdown, 2 chunks, readable by workspace" in listed
    assert "  handbook.pdf  pdf, 2 chunks, readable by workspace" in listed
    assert "photo.txt" not in listed


async def test_a_folder_added_twice_stores_nothing_the_second_time(
    files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (files / "photo.txt").unlink()
    (files / "broken.pdf").unlink()
    (files / "huge.html").unlink()
    assert await mnemo("sources", "add", str(files), "--agent", "ada") == 0
    assert capsys.readouterr().out.splitlines()[:2] == [
        "added guide.md: 2 chunks",
        "added handbook.pdf: 2 chunks",
    ]
    assert await mnemo("sources", "add", str(files), "--agent", "ada") == 0
    again = capsys.readouterr().out.splitlines()
    assert again[:2] == [
        "unchanged guide.md: 2 chunks already stored",
        "unchanged handbook.pdf: 2 chunks already stored",
    ]
    assert again[2].startswith("2 files: 2 unchanged; 0 chunks stored")


async def test_show_cites_each_chunk_and_remove_forgets_the_document(
    files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    guide = str(files / "guide.md")
    assert await mnemo("sources", "add", guide, "--audience", "private:G-team") == 0
    capsys.readouterr()
    assert await mnemo("sources", "show", "guide.md") == 0
    shown = capsys.readouterr().out
    assert "guide.md: Guide" in shown
    assert "readable by private:G-team in console:local" in shown
    assert '    1. guide.md, section "Guide"\n    2. guide.md, section "Guide > Leave"' in shown

    assert await mnemo("sources", "remove", "guide.md") == 0
    assert capsys.readouterr().out.startswith("Removed guide.md and what was derived from it:")
    assert await mnemo("sources", "show", "guide.md") == 1
    assert "ada has no document 'guide.md' in console:local" in capsys.readouterr().err


async def test_a_bad_audience_or_an_unknown_agent_is_refused(
    files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    guide = str(files / "guide.md")
    assert await mnemo("sources", "add", guide, "--agent", "ada", "--audience", "everyone") == 2
    assert "mnemo: --audience: unknown scope 'everyone'" in capsys.readouterr().err
    assert await mnemo("sources", "add", guide, "--audience", "agent") == 2
    assert "a document belongs to one workspace" in capsys.readouterr().err
    assert await mnemo("sources", "add", guide, "--agent", "nobody") == 1
    assert "mnemo: no agent called 'nobody'" in capsys.readouterr().err
