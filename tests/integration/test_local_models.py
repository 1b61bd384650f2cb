"""Small and local models behind OpenAI-compatible servers (llama.cpp, llama-cpp-python, vLLM,
Ollama), as the fake server imitates them: the bot answers, bounded, and never shows a user a
tool call it could not read."""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from pathlib import Path
from typing import Any

import pytest

from engine.agent.prompts import LLM_DOWN_REPLY, NO_ANSWER_REPLY
from engine.tokens import TokenCounter
from tests.fakes.local_server import ServerQuirks
from tests.fakes.openai_server import FakeOpenAI, text, tool_call, tool_calls
from tests.harness import Bot, bot_running, dm, settings_for
from tests.token_accounting import request_tokens


async def test_every_request_bounds_the_answer_with_max_tokens(
    tmp_path: Path, llm: FakeOpenAI
) -> None:
    llm.quirks = ServerQuirks(requires_max_tokens=True)
    async with bot_running(settings_for(tmp_path, llm), llm) as bot:
        [echoed] = await bot.say(dm("ann"), "ann", "hello")
        assert echoed.endswith("hello")
        agent = bot.runtime.default_agent
        await bot.runtime.store.agents.put(dataclasses.replace(agent, max_tokens=200))
        await bot.say(dm("ann"), "ann", "again")

    assert [r["max_tokens"] for r in llm.chat_requests] == [1024, 200]


async def test_the_per_request_timeout_comes_from_the_settings(
    tmp_path: Path, llm: FakeOpenAI
) -> None:
    llm.quirks = ServerQuirks(seconds_per_answer=1.0)
    patient = settings_for(tmp_path / "a", llm, MNEMO_LLM_REQUEST_TIMEOUT=5.0)
    async with bot_running(patient, llm) as bot:
        [echoed] = await bot.say(dm("ann"), "ann", "slow one")
        assert echoed.endswith("slow one")

    hasty = settings_for(tmp_path / "b", llm, MNEMO_LLM_REQUEST_TIMEOUT=0.3, MNEMO_LLM_TIMEOUT=2.0)
    async with bot_running(hasty, llm) as bot:
        started = time.monotonic()
        assert await bot.say(dm("ann"), "ann", "slow two") == [LLM_DOWN_REPLY]
        assert time.monotonic() - started < 5.0


async def test_a_500_on_required_tool_choice_falls_back_to_auto_and_is_remembered(
    tmp_path: Path, llm: FakeOpenAI
) -> None:
    llm.quirks = ServerQuirks(required_status=500)
    async with bot_running(settings_for(tmp_path, llm), llm) as bot:
        [first] = await bot.say(dm("bo"), "bo", "one")
        [second] = await bot.say(dm("bo"), "bo", "two")
        await bot.say(dm("bo"), "bo", "three")

    assert first.startswith("echo: ")
    assert first.endswith("one")
    assert second.startswith("echo: ")
    assert second.endswith("two")
    # The second server error on "required" answered by "auto" is taken as the model's way.
    choices = [r["tool_choice"] for r in llm.chat_requests]
    assert choices == ["required", "auto", "required", "auto", "auto"]


@pytest.mark.parametrize("style", ["tagged", "bare", "fenced"])
async def test_tool_calls_written_as_text_are_run_as_tool_calls(
    tmp_path: Path, llm: FakeOpenAI, style: Any
) -> None:
    llm.quirks = ServerQuirks(calls_as=style)
    async with bot_running(settings_for(tmp_path, llm), llm) as bot:
        llm.push(
            tool_calls(
                ("core_memory_append", {"label": "human", "content": "Keeps bees."}),
                ("send_message", {"message": "Bees, lovely."}),
            )
        )
        assert await bot.say(dm("cy"), "cy", "I keep bees.") == ["Bees, lovely."]
        [echoed] = await bot.say(dm("cy"), "cy", "and now?")
        assert echoed.startswith("echo: ")
        assert echoed.endswith("and now?")
        [system, *_] = llm.chat_requests[-1]["messages"]
        assert "Keeps bees." in system["content"]


async def test_an_unreadable_tool_call_is_asked_again_once_and_never_shown(
    tmp_path: Path, llm: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    broken = '<tool_call>\n{"name": "send_message", "arguments": {"message": "Hi th'
    async with bot_running(settings_for(tmp_path, llm), llm) as bot:
        llm.push(text(broken), tool_call("send_message", message="Hi there."))
        assert await bot.say(dm("di"), "di", "hi") == ["Hi there."]
        assert "could not be read" in json.dumps(llm.chat_requests[-1]["messages"])

        llm.push(text(broken), text('{"name": "send_message", "argument'), text(""))
        with caplog.at_level(logging.WARNING):
            replies = await bot.say(dm("di"), "di", "hello?")
        assert replies == [NO_ANSWER_REPLY]
        assert any("unreadable tool call twice" in r.getMessage() for r in caplog.records)


async def clamped_budget_requests(bot: Bot, window: int) -> list[tuple[int, int]]:
    """Tokens of each chat request sent in a long conversation (turns and the summaries of
    what left the window), with its max_tokens."""
    counter = TokenCounter("gpt-4o-mini")
    for i in range(30):
        detail = " ".join(f"item {i}.{k} is pending sign-off" for k in range(12))
        await bot.say(dm("eve"), "eve", f"Note {i}: {detail}.")
    assert any("tools" not in r for r in bot.llm.chat_requests), "nothing was summarised"
    return [
        (request_tokens(counter, r["messages"], r.get("tools", [])), r["max_tokens"])
        for r in bot.llm.chat_requests
    ]


@pytest.mark.parametrize(
    "quirks",
    [
        ServerQuirks(model_fields={"context_length": 3000}),
        ServerQuirks(model_fields={"max_model_len": 3000}, model_id="some/other-name"),
        ServerQuirks(
            model_id="models/qwen2.5-0.5b.gguf",
            model_fields={"meta": {"n_ctx_train": 32768}},
            props={"default_generation_settings": {"n_ctx": 3000}},
        ),
    ],
    ids=["context_length", "vllm_max_model_len", "llama_cpp_props"],
)
async def test_the_budget_never_exceeds_the_context_window_the_server_states(
    tmp_path: Path, llm: FakeOpenAI, quirks: ServerQuirks, caplog: pytest.LogCaptureFixture
) -> None:
    llm.quirks = quirks
    with caplog.at_level(logging.WARNING, logger="engine.agent.window"):
        async with bot_running(settings_for(tmp_path, llm), llm) as bot:
            sent = await clamped_budget_requests(bot, 3000)

    assert all(used + answer <= 3000 for used, answer in sent), sent
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1
    assert "context budget 16000 exceeds the 3000-token context window" in warnings[0]


async def test_an_agents_context_window_bounds_its_budget(tmp_path: Path, llm: FakeOpenAI) -> None:
    async with bot_running(settings_for(tmp_path, llm), llm) as bot:
        agent = bot.runtime.default_agent
        await bot.runtime.store.agents.put(dataclasses.replace(agent, context_window=2500))
        sent = await clamped_budget_requests(bot, 2500)

    assert all(used + answer <= 2500 for used, answer in sent), sent
