"""The agent's searches cite where each hit was said (author, date, channel, link), and its
``why`` tool shows a memory's sources, never one the audience of the turn may not read."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from engine import Audience, attach_tool
from tests.fakes.memory_items import ExampleLinks
from tests.fakes.openai_server import FakeOpenAI, tool_call
from tests.harness import Bot, bot_running, dm, public, settings_for

LINK = re.compile(r"<https://chat\.example/test:W1/([\w-]+)/\w+>")


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[Bot]:
    async with FakeOpenAI() as llm, bot_running(settings_for(tmp_path, llm), llm) as running:
        running.runtime.engine.links.register(ExampleLinks())
        yield running


def tool_results(request: dict[str, Any]) -> list[str]:
    """The tool results a request shows, oldest first (this turn's are last)."""
    return [str(m["content"]) for m in request["messages"] if m["role"] == "tool"]


async def tell(bot: Bot) -> None:
    """Alice tells the launch date in #launches (kept in archival) and a secret in her DM."""
    bot.llm.push(
        tool_call("archival_memory_insert", content="The launch moved to Friday."),
        tool_call("send_message", message="Noted."),
    )
    await bot.say(public("launches"), "alice", "The launch moved to Friday")
    bot.llm.push(tool_call("send_message", message="My lips are sealed."))
    await bot.say(dm("alice"), "alice", "launch secret: the codename is Kite")


async def test_searches_cite_who_said_it_where_with_a_link(bot: Bot) -> None:
    await tell(bot)
    bot.llm.push(
        tool_call("conversation_search", query="launch"),
        tool_call("archival_memory_search", query="launch day"),
        tool_call("send_message", message="Alice said Friday, in #launches."),
    )
    await bot.say(public("general"), "bob", "When is the launch?")

    recall, archival = tool_results(bot.llm.chat_requests[-1])[-2:]
    assert "Where the matching messages were said:\n- Alice, " in recall
    assert " in #launches <https://chat.example/test:W1/launches/" in recall
    assert "The launch moved to Friday. (from Alice, " in archival
    assert LINK.findall(recall + archival) == ["launches", "launches"]
    assert "Kite" not in recall + archival


async def test_why_tool_cites_only_sources_the_turn_may_read(bot: Bot) -> None:
    runtime = bot.runtime
    await attach_tool(runtime.store, runtime.default_agent.name, "why")
    await tell(bot)
    bot.llm.push(
        tool_call("archival_memory_insert", content="The launch moved to Friday, codename Kite."),
        tool_call("send_message", message="Noted."),
    )
    await bot.say(dm("alice"), "alice", "remember the launch codename too")

    public_answer = await ask_why(bot, public("general"), "bob", "launch Friday")
    assert "(archival) The launch moved to Friday." in public_answer
    assert "[Alice, " in public_answer
    assert "Kite" not in public_answer
    assert "direct messages" not in public_answer

    in_dm = await ask_why(bot, dm("alice"), "alice", "launch codename")
    assert "codename Kite" in in_dm
    assert "in direct messages](https://chat.example/test:W1/D-alice/" in in_dm


async def ask_why(bot: Bot, where: Audience, user: str, words: str) -> str:
    """What the agent's ``why`` tool answers for ``words`` in a turn ``user`` starts there."""
    bot.llm.push(tool_call("why", words=words), tool_call("send_message", message="I see."))
    await bot.say(where, user, "How do you know?")
    return tool_results(bot.llm.chat_requests[-1])[-1]
