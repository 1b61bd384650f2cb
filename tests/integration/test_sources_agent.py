"""An agent taught from files knows which documents it has, finds their chunks with
``archival_memory_search`` cited by document, section and page, and forgets what it built on
a document when the document is removed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from engine import Scope, SourceLibrary, SourceTarget
from tests.fakes.openai_server import FakeOpenAI, tool_call
from tests.fakes.pdf_files import pdf_bytes
from tests.harness import Bot, bot_running, private, public, settings_for

WORKSPACE = "test:W1"
HANDBOOK = """# Handbook

## Leave

### Parental leave

Parents get sixteen weeks of paid parental leave.

## Expenses

Receipts are paid back within two weeks.
"""


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[Bot]:
    async with FakeOpenAI() as llm, bot_running(settings_for(tmp_path, llm), llm) as running:
        yield running


def system_prompt(request: dict[str, Any]) -> str:
    return str(request["messages"][0]["content"])


def last_tool_result(request: dict[str, Any]) -> str:
    return [str(m["content"]) for m in request["messages"] if m["role"] == "tool"][-1]


def write_files(folder: Path) -> None:
    (folder / "handbook.md").write_text(HANDBOOK)
    (folder / "travel.pdf").write_bytes(
        pdf_bytes([["Travel policy."], ["Trains are booked for trips under four hours."]])
    )


async def teach(bot: Bot, tmp_path: Path, scope: Scope | None = None) -> SourceLibrary:
    """The handbook and the travel policy, taught for the whole workspace unless ``scope``."""
    runtime = bot.runtime
    library = SourceLibrary(runtime.store, runtime.embedder)
    target = SourceTarget(runtime.default_agent.id, WORKSPACE, scope or Scope.workspace())
    write_files(tmp_path)
    for name in ("handbook.md", "travel.pdf"):
        result = await library.add_file(target, tmp_path / name)
        assert result.error == ""
    return library


async def test_search_cites_document_section_and_page_and_metadata_names_them(
    bot: Bot, tmp_path: Path
) -> None:
    await teach(bot, tmp_path)
    bot.llm.push(
        tool_call("archival_memory_search", query="parental leave weeks"),
        tool_call("archival_memory_search", query="trains trips hours"),
        tool_call("archival_memory_search", query="weeks", tags=["source:travel.pdf"]),
        tool_call("send_message", message="Sixteen weeks (handbook.md, Parental leave)."),
    )
    await bot.say(public("general"), "bob", "How long is parental leave?")

    requests = bot.llm.chat_requests
    assert (
        'Documents in archival memory (search one with tags=["source:<name>"]; cite them by '
        "name, section and page): handbook.md (2 chunks), travel.pdf (2 chunks)"
    ) in system_prompt(requests[0])
    assert "Archival tags" not in system_prompt(requests[0])
    leave = last_tool_result(requests[1])
    assert (
        "Parents get sixteen weeks of paid parental leave. (from handbook.md, section "
        '"Handbook > Leave > Parental leave")'
    ) in leave
    assert "[source" not in leave
    travel = last_tool_result(requests[2])
    assert "Trains are booked for trips under four hours. (from travel.pdf, page 2)" in travel
    only_travel = last_tool_result(requests[3])
    assert "from travel.pdf" in only_travel
    assert "handbook.md" not in only_travel


async def test_a_document_taught_to_a_private_channel_is_not_found_elsewhere(
    bot: Bot, tmp_path: Path
) -> None:
    await teach(bot, tmp_path, Scope.private("G-hr"))
    bot.llm.push(
        tool_call("archival_memory_search", query="parental leave weeks"),
        tool_call("send_message", message="I don't know."),
    )
    await bot.say(public("general"), "bob", "How long is parental leave?")
    assert "handbook.md" not in system_prompt(bot.llm.chat_requests[0])
    assert last_tool_result(bot.llm.chat_requests[-1]) == "No archival passages matched."

    bot.llm.push(
        tool_call("archival_memory_search", query="parental leave weeks"),
        tool_call("send_message", message="Sixteen weeks."),
    )
    await bot.say(private("G-hr"), "carol", "How long is parental leave?")
    assert "sixteen weeks" in last_tool_result(bot.llm.chat_requests[-1])


async def test_removing_a_document_forgets_the_notes_the_agent_built_on_it(
    bot: Bot, tmp_path: Path
) -> None:
    library = await teach(bot, tmp_path)
    bot.llm.push(
        tool_call("archival_memory_search", query="parental leave weeks"),
        tool_call("core_memory_append", label="channel", content="Parental leave: sixteen weeks"),
        tool_call("send_message", message="Noted: sixteen weeks."),
    )
    await bot.say(public("general"), "bob", "Remember how long parental leave is")
    store = bot.runtime.store
    agent = bot.runtime.default_agent
    blocks = await store.blocks.list(agent.id, WORKSPACE)
    assert any("sixteen weeks" in b.value for b in blocks)

    (handbook,) = [d for d in await library.documents(agent.id) if d.name == "handbook.md"]
    await library.remove(handbook)
    blocks = await store.blocks.list(agent.id, WORKSPACE)
    assert not any("sixteen weeks" in b.value for b in blocks)
    assert [d.name for d in await library.documents(agent.id)] == ["travel.pdf"]
