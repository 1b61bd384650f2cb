"""A misbehaving model endpoint, through the real openai client: the bot never crashes, never
loses the user's message, never replies twice, and always tells the user something clear."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from engine.agent.prompts import (
    LLM_DOWN_REPLY,
    LLM_KEY_REFUSED_REPLY,
    LLM_REJECTED_REPLY,
    NO_ANSWER_REPLY,
)
from tests.fakes.openai_server import (
    Call,
    FakeOpenAI,
    NoChoices,
    ToolCalls,
    delay,
    error,
    text,
    tool_call,
)
from tests.harness import bot_running, dm, public, settings_for


@pytest.fixture
async def llm() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as server:
        yield server


def tool_results(request: dict[str, Any]) -> list[str]:
    return [m["content"] for m in request["messages"] if m["role"] == "tool"]


def whole_request(request: dict[str, Any]) -> str:
    return json.dumps(request["messages"])


async def test_invalid_json_arguments_come_back_to_the_model_as_an_error(
    tmp_path: Path, llm: FakeOpenAI
) -> None:
    async with bot_running(settings_for(tmp_path, llm), llm) as bot:
        llm.push(
            ToolCalls((Call("send_message", '{"message": "unterminated'),)),
            tool_call("send_message", message="Fixed."),
        )
        assert await bot.say(dm("ann"), "ann", "hi") == ["Fixed."]
        result = tool_results(llm.chat_requests[-1])[0]
        assert result.startswith("Error")
        assert "JSON" in result


async def test_plain_text_instead_of_a_tool_call_is_the_one_reply(
    tmp_path: Path, llm: FakeOpenAI
) -> None:
    async with bot_running(settings_for(tmp_path, llm), llm) as bot:
        llm.push(text("Just text."))
        assert await bot.say(dm("ben"), "ben", "hello") == ["Just text."]
        assert len(llm.chat_requests) == 1
        [echoed] = await bot.say(dm("ben"), "ben", "and now?")
        assert echoed.endswith("and now?")
        assert "Just text." in whole_request(llm.chat_requests[-1])


async def test_empty_choices_are_asked_again_once(tmp_path: Path, llm: FakeOpenAI) -> None:
    async with bot_running(settings_for(tmp_path, llm), llm) as bot:
        llm.push(NoChoices(), tool_call("send_message", message="There you go."))
        assert await bot.say(dm("cat"), "cat", "hi") == ["There you go."]


async def test_empty_answers_twice_give_one_clear_sentence(tmp_path: Path, llm: FakeOpenAI) -> None:
    async with bot_running(settings_for(tmp_path, llm), llm) as bot:
        llm.push(NoChoices(), text(""))
        assert await bot.say(dm("dan"), "dan", "are you there?") == [NO_ANSWER_REPLY]
        assert len(llm.chat_requests) == 2
        llm.push(tool_call("send_message", message="Yes."))
        assert await bot.say(dm("dan"), "dan", "hello?") == ["Yes."]
        assert "are you there?" in whole_request(llm.chat_requests[-1])


async def test_no_reply_stays_silent(tmp_path: Path, llm: FakeOpenAI) -> None:
    async with bot_running(settings_for(tmp_path, llm), llm) as bot:
        llm.push(tool_call("no_reply"))
        assert await bot.say(public("random"), "eve", "lol") == []


async def test_text_beside_tool_calls_is_not_sent_as_a_second_reply(
    tmp_path: Path, llm: FakeOpenAI
) -> None:
    async with bot_running(settings_for(tmp_path, llm), llm) as bot:
        llm.push(
            ToolCalls(
                (Call("send_message", json.dumps({"message": "The answer."})),),
                text="Let me think out loud.",
            )
        )
        assert await bot.say(dm("fay"), "fay", "question") == ["The answer."]


async def test_unknown_tool_then_answer_replies_once(tmp_path: Path, llm: FakeOpenAI) -> None:
    async with bot_running(settings_for(tmp_path, llm), llm) as bot:
        llm.push(tool_call("web_search", q="x"), tool_call("send_message", message="Answer."))
        assert await bot.say(dm("gus"), "gus", "search") == ["Answer."]


async def test_server_rejecting_tool_choice_required_still_answers(
    tmp_path: Path, llm: FakeOpenAI
) -> None:
    async with bot_running(settings_for(tmp_path, llm), llm) as bot:
        llm.push(error(400, "tool_choice 'required' is not supported by this model"))
        [echoed] = await bot.say(dm("hal"), "hal", "hi")
        assert echoed.endswith("hi")
        assert llm.chat_requests[-1]["tool_choice"] == "auto"


async def test_bad_api_key_is_one_clear_sentence_and_names_the_setting(
    tmp_path: Path, llm: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    async with bot_running(settings_for(tmp_path, llm), llm) as bot:
        llm.push(error(401, "Incorrect API key provided"))
        with caplog.at_level(logging.ERROR):
            assert await bot.say(dm("ida"), "ida", "remember me") == [LLM_KEY_REFUSED_REPLY]
        assert len(llm.chat_requests) == 1, "a refused key is not retried"
        assert any("OPENAI_API_KEY" in r.getMessage() for r in caplog.records)
        llm.push(tool_call("send_message", message="Hello again."))
        assert await bot.say(dm("ida"), "ida", "still there?") == ["Hello again."]
        assert "remember me" in whole_request(llm.chat_requests[-1])


async def test_other_bad_requests_are_answered_once_without_retry(
    tmp_path: Path, llm: FakeOpenAI
) -> None:
    async with bot_running(settings_for(tmp_path, llm), llm) as bot:
        llm.push(error(400, "messages: too many"))
        assert await bot.say(dm("jan"), "jan", "hi") == [LLM_REJECTED_REPLY]
        assert len(llm.chat_requests) == 1


async def test_hang_past_the_timeout_tells_the_user_once(tmp_path: Path, llm: FakeOpenAI) -> None:
    settings = settings_for(tmp_path, llm, MNEMO_LLM_TIMEOUT=1.0)
    async with bot_running(settings, llm) as bot:
        llm.push(*[delay(3.0) for _ in range(10)])
        assert await bot.say(dm("kim"), "kim", "slow?") == [LLM_DOWN_REPLY]


async def test_rate_limit_storm_is_ridden_out(tmp_path: Path, llm: FakeOpenAI) -> None:
    async with bot_running(settings_for(tmp_path, llm), llm) as bot:
        llm.push(*[error(429, retry_after=0.05) for _ in range(6)])
        llm.push(tool_call("send_message", message="Made it."))
        assert await bot.say(dm("lou"), "lou", "busy?") == ["Made it."]
        assert len(llm.chat_requests) == 7


async def test_endless_rate_limits_give_up_within_the_budget(
    tmp_path: Path, llm: FakeOpenAI
) -> None:
    settings = settings_for(tmp_path, llm, MNEMO_LLM_TIMEOUT=1.0)
    async with bot_running(settings, llm) as bot:
        llm.push(*[error(429, retry_after=0.2) for _ in range(50)])
        assert await bot.say(dm("max"), "max", "hello?") == [LLM_DOWN_REPLY]
