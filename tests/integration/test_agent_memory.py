"""A whole agent, from a message in to a reply out: memory that lasts and stays private."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from engine.agent.prompts import LLM_DOWN_REPLY
from engine.tokens import TokenCounter
from tests.fakes.openai_server import FakeOpenAI, error, tool_call
from tests.harness import bot_running, dm, private, public, settings_for
from tests.token_accounting import request_tokens


@pytest.fixture
async def llm() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as server:
        yield server


def system_text(request: dict[str, Any]) -> str:
    return str(request["messages"][0]["content"])


def whole_request(request: dict[str, Any]) -> str:
    return json.dumps(request["messages"])


def tool_results(request: dict[str, Any]) -> list[str]:
    return [m["content"] for m in request["messages"] if m["role"] == "tool"]


async def test_fact_from_first_session_is_recalled_after_restart(
    tmp_path: Path, llm: FakeOpenAI
) -> None:
    settings = settings_for(tmp_path, llm)
    async with bot_running(settings, llm) as bot:
        llm.push(
            tool_call("core_memory_append", label="human", content="Has a corgi named Biscuit."),
            tool_call("send_message", message="Biscuit is a great name!"),
        )
        replies = await bot.say(dm("alice"), "alice", "My corgi is called Biscuit.")
        assert replies == ["Biscuit is a great name!"]

    async with bot_running(settings, llm) as bot:
        llm.push(tool_call("send_message", message="Your corgi is Biscuit."))
        replies = await bot.say(dm("alice"), "alice", "What is my dog called?")
        assert replies == ["Your corgi is Biscuit."]
        assert "Has a corgi named Biscuit." in system_text(llm.chat_requests[-1])


async def test_fact_only_in_archival_is_found_by_searching(tmp_path: Path, llm: FakeOpenAI) -> None:
    async with bot_running(settings_for(tmp_path, llm), llm) as bot:
        llm.push(
            tool_call(
                "archival_memory_insert",
                content="The staging database password rotates every first Monday.",
                tags=["ops"],
            ),
            tool_call("send_message", message="Noted."),
        )
        await bot.say(public("ops"), "bob", "FYI staging db password rotates every first Monday")
        llm.push(
            tool_call("archival_memory_search", query="when does the staging password rotate"),
            tool_call("send_message", message="Every first Monday."),
        )
        replies = await bot.say(public("ops"), "carol", "When does the staging password change?")
        assert replies == ["Every first Monday."]
        found = tool_results(llm.chat_requests[-1])[-1]
        assert "rotates every first Monday" in found
        assert "first Monday" not in system_text(llm.chat_requests[-2])


async def test_dm_fact_never_reaches_a_channel(tmp_path: Path, llm: FakeOpenAI) -> None:
    secret = "interviewing at Initech next week"
    async with bot_running(settings_for(tmp_path, llm), llm) as bot:
        llm.push(
            tool_call("core_memory_append", label="human", content=f"Is {secret}."),
            tool_call("archival_memory_insert", content=f"Alice is {secret}."),
            tool_call("send_message", message="Good luck, I'll keep it between us."),
        )
        await bot.say(dm("alice"), "alice", f"Between us: I'm {secret}.")

        # The same user in a public channel: nothing of the DM is in the request, and the
        # agent's searches there cannot find it either.
        llm.push(
            tool_call("conversation_search", query="Initech interviewing"),
            tool_call("archival_memory_search", query="Initech interview"),
            tool_call("send_message", message="No idea."),
        )
        await bot.say(public("general"), "alice", "What's new with me?")
        for request in llm.chat_requests[-3:]:
            assert secret not in whole_request(request)
        found = tool_results(llm.chat_requests[-1])
        assert found[0] == "No past messages matched."
        assert found[1] == "No archival passages matched."

        # A private channel the user is in does not see it either.
        llm.push(tool_call("send_message", message="Hi."))
        await bot.say(private("secret-project"), "alice", "hello")
        assert "Initech" not in whole_request(llm.chat_requests[-1])

        # Back in the DM it is all there.
        llm.push(tool_call("send_message", message="Your Initech interview!"))
        await bot.say(dm("alice"), "alice", "What was I nervous about?")
        assert secret in system_text(llm.chat_requests[-1])


async def test_private_channel_facts_stay_in_that_channel(tmp_path: Path, llm: FakeOpenAI) -> None:
    async with bot_running(settings_for(tmp_path, llm), llm) as bot:
        llm.push(
            tool_call("core_memory_append", label="channel", content="Codename: BLUEFIN."),
            tool_call("send_message", message="Got it."),
        )
        await bot.say(private("skunkworks"), "dan", "Our codename is BLUEFIN")
        llm.push(tool_call("send_message", message="Hello."))
        await bot.say(public("skunkworks-public"), "dan", "hi")
        llm.push(tool_call("send_message", message="Hello."))
        await bot.say(dm("dan"), "dan", "hi")
        assert all("BLUEFIN" not in whole_request(r) for r in llm.chat_requests[-2:])
        llm.push(tool_call("send_message", message="BLUEFIN."))
        await bot.say(private("skunkworks"), "erin", "what's our codename?")
        assert "BLUEFIN" in system_text(llm.chat_requests[-1])


async def test_workspaces_never_see_each_other(tmp_path: Path, llm: FakeOpenAI) -> None:
    async with bot_running(settings_for(tmp_path, llm), llm) as bot:
        llm.push(
            tool_call("core_memory_append", label="human", content="Prefers tabs."),
            tool_call("archival_memory_insert", content="Team Acme ships on Fridays."),
            tool_call("send_message", message="ok"),
        )
        await bot.say(public("general", "test:ACME"), "frank", "We ship on Fridays, I like tabs")
        llm.push(
            tool_call("archival_memory_search", query="when do we ship"),
            tool_call("send_message", message="?"),
        )
        await bot.say(public("general", "test:OTHER"), "frank", "when do we ship?")
        assert "tabs" not in whole_request(llm.chat_requests[-1])
        assert tool_results(llm.chat_requests[-1])[-1] == "No archival passages matched."


async def test_summaries_keep_a_long_conversation_under_budget(
    tmp_path: Path, llm: FakeOpenAI
) -> None:
    budget = 4000
    settings = settings_for(tmp_path, llm, MNEMO_CONTEXT_BUDGET=budget, MNEMO_AGENT="brief")
    counter = TokenCounter("gpt-4o-mini")
    async with bot_running(settings, llm) as bot:
        for i in range(40):
            detail = " ".join(f"item {i}.{k} is pending sign-off" for k in range(12))
            await bot.say(dm("gina"), "gina", f"Note {i}: report section {i}: {detail}.")
        requests = llm.chat_requests
        for request in requests:
            used = request_tokens(counter, request["messages"], request.get("tools", []))
            assert used <= budget
        summaries = [r for r in requests if "tools" not in r]
        assert summaries, "old messages were folded into a summary"
        assert "<conversation_summary>" in system_text(requests[-1])


async def test_model_down_gives_one_clear_sentence_and_keeps_memory(
    tmp_path: Path, llm: FakeOpenAI
) -> None:
    settings = settings_for(tmp_path, llm, MNEMO_LLM_TIMEOUT=1.0)
    async with bot_running(settings, llm) as bot:
        llm.push(*[error(503) for _ in range(50)])
        replies = await bot.say(dm("hank"), "hank", "hello?")
        assert replies == [LLM_DOWN_REPLY]
        llm.reset()
        llm.push(tool_call("send_message", message="I'm back."))
        assert await bot.say(dm("hank"), "hank", "hello again") == ["I'm back."]
        # The first message is still in recall and in the window.
        assert "hello?" in whole_request(llm.chat_requests[-1])


async def test_bad_tool_calls_come_back_as_tool_errors(tmp_path: Path, llm: FakeOpenAI) -> None:
    async with bot_running(settings_for(tmp_path, llm), llm) as bot:
        llm.push(
            tool_call("launch_rockets", count=3),
            tool_call("core_memory_replace", label="human", old_content="nope", new_content="x"),
            tool_call("core_memory_append", label="human", content="x" * 5000),
            tool_call("send_message", message="Done."),
        )
        assert await bot.say(dm("ivy"), "ivy", "hi") == ["Done."]
        results = tool_results(llm.chat_requests[-1])
        assert "no tool called 'launch_rockets'" in results[0]
        assert "was not found" in results[1]
        assert "archival memory" in results[2]
