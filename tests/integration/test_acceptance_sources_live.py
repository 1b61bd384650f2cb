"""A document an operator adds with ``mnemo sources add`` while the bot runs is found by the
bot's next turn (its search index sees another process's writes), cited by section, and one
added for a private channel stays out of a public channel's search and memory metadata."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from tests.fakes.openai_server import FakeOpenAI, tool_call
from tests.harness import bot_running, public, settings_for

HANDBOOK = "# Handbook\n\n## Releases\n\nThe release captain is chosen on Monday.\n"
HR = "# Pay\n\n## Salaries\n\nThe release captain earns a bonus of 900 euros.\n"


def last_tool_result(request: dict[str, Any]) -> str:
    return [str(m["content"]) for m in request["messages"] if m["role"] == "tool"][-1]


async def test_a_document_added_from_the_terminal_is_found_by_the_running_bot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MNEMO_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("MNEMO_AGENT", raising=False)
    (tmp_path / "handbook.md").write_text(HANDBOOK)
    (tmp_path / "pay.md").write_text(HR)
    search = tool_call("archival_memory_search", query="release captain")
    async with FakeOpenAI() as llm, bot_running(settings_for(tmp_path, llm), llm) as bot:
        bot.llm.push(search, tool_call("send_message", message="I don't know yet."))
        await bot.say(public("general"), "bob", "Who picks the release captain?")
        assert last_tool_result(bot.llm.chat_requests[-1]) == "No archival passages matched."

        add = ["sources", "add", "--workspace", "test:W1"]
        assert await asyncio.to_thread(main, [*add, str(tmp_path / "handbook.md")]) == 0
        private = [*add, "--audience", "private:G-pay", str(tmp_path / "pay.md")]
        assert await asyncio.to_thread(main, private) == 0

        bot.llm.push(search, tool_call("send_message", message="Chosen on Monday."))
        await bot.say(public("general"), "bob", "Who picks the release captain?")
        asked, answered = bot.llm.chat_requests[-2:]
        found = last_tool_result(answered)
        assert "The release captain is chosen on Monday." in found
        assert 'from handbook.md, section "Handbook > Releases"' in found
        assert "900 euros" not in found
        prompt = str(asked["messages"][0]["content"])
        assert "handbook.md (1 chunks)" in prompt
        assert "pay.md" not in prompt
