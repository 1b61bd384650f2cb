"""The LLM client driving the real `openai` SDK against the fake OpenAI-compatible server."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator

import pytest

from engine.backoff import Backoff
from engine.llm import ChatRequest, LLMClient, LLMRejected, LLMUnavailable, RetryPolicy
from tests.fakes.openai_server import (
    FakeOpenAI,
    FakeOpenAIProcess,
    delay,
    error,
    text,
    tool_call,
    tool_calls,
)

SEND_MESSAGE = {
    "type": "function",
    "function": {
        "name": "send_message",
        "description": "Reply to the user.",
        "parameters": {
            "type": "object",
            "properties": {"message": {"type": "string"}},
            "required": ["message"],
        },
    },
}
MESSAGES = [{"role": "system", "content": "You are Mnemo."}, {"role": "user", "content": "hi"}]
#: One step asking gpt-4o to reply through its tool.
ASK_GPT4O = ChatRequest("gpt-4o", MESSAGES, [SEND_MESSAGE])
FAST = RetryPolicy(total_seconds=3.0, request_timeout=1.0, backoff=Backoff(0.05, 0.2))


@pytest.fixture
async def llm() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as server:
        yield server


@pytest.fixture
async def client(llm: FakeOpenAI) -> AsyncIterator[LLMClient]:
    c = LLMClient(base_url=llm.base_url, api_key="test", retry=FAST)
    yield c
    await c.aclose()


async def test_tool_calls_are_parsed_with_raw_arguments(llm: FakeOpenAI, client: LLMClient) -> None:
    llm.push(
        tool_calls(
            ("core_memory_append", {"label": "human", "content": "likes tea"}),
            ("send_message", {"message": "noted"}),
        )
    )

    completion = await client.complete(ASK_GPT4O)

    assert [c.name for c in completion.tool_calls] == ["core_memory_append", "send_message"]
    assert json.loads(completion.tool_calls[1].arguments) == {"message": "noted"}
    assert len({c.id for c in completion.tool_calls}) == 2
    assert completion.usage.prompt_tokens > 0
    assert llm.requests[0]["tool_choice"] == "required"
    assert llm.requests[0]["tools"][0]["function"]["name"] == "send_message"


async def test_default_responder_echoes_last_user_message(client: LLMClient) -> None:
    completion = await client.complete(ASK_GPT4O)

    assert completion.tool_calls[0].name == "send_message"
    assert json.loads(completion.tool_calls[0].arguments) == {"message": "echo: hi"}


async def test_plain_text_without_tools(llm: FakeOpenAI, client: LLMClient) -> None:
    llm.push(text("a summary"))

    completion = await client.complete(ChatRequest("gpt-4o", MESSAGES))

    assert completion.text == "a summary"
    assert completion.tool_calls == ()
    assert "tools" not in llm.requests[0]


async def test_rate_limit_is_retried_after_the_servers_retry_after(
    llm: FakeOpenAI, client: LLMClient
) -> None:
    llm.push(error(429, "slow down", retry_after=0.6), tool_call("send_message", message="ok"))

    started = time.monotonic()
    completion = await client.complete(ASK_GPT4O)

    assert time.monotonic() - started >= 0.55  # waited what the server asked, not the 50 ms backoff
    assert json.loads(completion.tool_calls[0].arguments) == {"message": "ok"}
    assert len(llm.requests) == 2
    assert client.totals.retries == 1


async def test_retries_log_at_debug_only(
    llm: FakeOpenAI, client: LLMClient, caplog: pytest.LogCaptureFixture
) -> None:
    llm.push(*[error(429, retry_after=0.01) for _ in range(3)], tool_call("send_message", m="ok"))

    with caplog.at_level(logging.DEBUG, logger="engine.llm"):
        await client.complete(ASK_GPT4O)

    retries = [r for r in caplog.records if "retry" in r.getMessage()]
    assert len(retries) == 3
    assert {r.levelno for r in retries} == {logging.DEBUG}


async def test_a_500_on_required_is_asked_again_with_auto_at_once(
    llm: FakeOpenAI, client: LLMClient
) -> None:
    llm.push(error(500, "grammar error"))

    completion = await client.complete(ASK_GPT4O)
    again = await client.complete(ASK_GPT4O)

    assert [len(c.tool_calls) for c in (completion, again)] == [1, 1]
    # Once may be a hiccup: the next step asks for "required" again.
    assert [r["tool_choice"] for r in llm.requests] == ["required", "auto", "required"]
    assert client.totals.retries == 0


async def test_an_overloaded_gateway_is_retried_without_falling_back(
    llm: FakeOpenAI, client: LLMClient
) -> None:
    llm.push(error(503, "overloaded"), error(502))

    completion = await client.complete(ASK_GPT4O)

    assert completion.tool_calls[0].name == "send_message"
    assert [r["tool_choice"] for r in llm.requests] == ["required"] * 3
    assert client.totals.retries == 2


async def test_server_errors_are_retried(llm: FakeOpenAI, client: LLMClient) -> None:
    llm.push(error(500), error(503), tool_call("send_message", message="back"))

    completion = await client.complete(ASK_GPT4O)

    assert completion.tool_calls[0].name == "send_message"
    assert len(llm.requests) == 3


async def test_persistent_failure_raises_unavailable_within_the_budget(llm: FakeOpenAI) -> None:
    llm.responder = lambda body: error(500, "down")
    budget = RetryPolicy(total_seconds=1.0, request_timeout=0.5, backoff=Backoff(0.05, 0.2))
    client = LLMClient(base_url=llm.base_url, api_key="test", retry=budget)

    started = time.monotonic()
    with pytest.raises(LLMUnavailable, match="HTTP 500"):
        await client.complete(ASK_GPT4O)
    await client.aclose()

    assert time.monotonic() - started < 3.0  # bounded by the 1 s budget, with slack for load
    assert len(llm.requests) >= 3
    assert client.totals.failures == 1


async def test_retry_after_beyond_the_budget_gives_up_at_once(
    llm: FakeOpenAI, client: LLMClient
) -> None:
    llm.push(error(429, retry_after=30))

    started = time.monotonic()
    with pytest.raises(LLMUnavailable, match="HTTP 429"):
        await client.complete(ASK_GPT4O)

    assert time.monotonic() - started < 2.0  # not the 30 s the server asked for
    assert len(llm.requests) == 1


async def test_timeout_is_retried(llm: FakeOpenAI, client: LLMClient) -> None:
    llm.push(delay(5.0), tool_call("send_message", message="second try"))

    completion = await client.complete(ASK_GPT4O)

    assert json.loads(completion.tool_calls[0].arguments) == {"message": "second try"}
    assert len(llm.chat_requests) == 2


async def test_connection_refused_is_reported_at_once_with_url_and_cause() -> None:
    async with FakeOpenAI() as server:
        base_url = server.base_url  # closed on exit: nothing listens there any more
    # A minute of budget: a refused connection is not a rate limit, so none of it is spent.
    budget = RetryPolicy(total_seconds=60.0, request_timeout=5.0, backoff=Backoff(0.5, 8.0))
    client = LLMClient(base_url=base_url, api_key="test", retry=budget)

    started = time.monotonic()
    with pytest.raises(LLMUnavailable) as raised:
        await client.complete(ASK_GPT4O)
    await client.aclose()

    assert time.monotonic() - started < 2.0
    assert str(raised.value) == f"model gpt-4o: cannot connect to {base_url} (connection refused)"
    assert client.totals.retries == 0


async def test_unknown_host_is_reported_at_once() -> None:
    budget = RetryPolicy(total_seconds=60.0, request_timeout=5.0)
    client = LLMClient(base_url="http://mnemo-no-such-host.invalid/v1", api_key="t", retry=budget)

    with pytest.raises(LLMUnavailable, match=r"mnemo-no-such-host\.invalid/v1 \(host name not"):
        await client.complete(ASK_GPT4O)
    await client.aclose()

    assert client.totals.retries == 0


async def test_rejected_required_tool_choice_falls_back_to_auto_and_is_remembered(
    llm: FakeOpenAI, client: LLMClient
) -> None:
    llm.push(error(400, "tool_choice 'required' is not supported by this model"))

    first = await client.complete(ChatRequest("local-llama", MESSAGES, [SEND_MESSAGE]))
    second = await client.complete(ChatRequest("local-llama", MESSAGES, [SEND_MESSAGE]))
    other = await client.complete(ASK_GPT4O)

    assert [len(c.tool_calls) for c in (first, second, other)] == [1, 1, 1]
    assert [r["tool_choice"] for r in llm.requests] == ["required", "auto", "auto", "required"]


async def test_other_bad_requests_are_rejected_without_retry(
    llm: FakeOpenAI, client: LLMClient
) -> None:
    llm.push(error(400, "messages: too long"))

    with pytest.raises(LLMRejected) as raised:
        await client.complete(ASK_GPT4O)

    assert raised.value.status == 400
    assert len(llm.requests) == 1


async def test_usage_totals_accumulate_for_metrics(llm: FakeOpenAI, client: LLMClient) -> None:
    first = await client.complete(ASK_GPT4O)
    second = await client.complete(ASK_GPT4O)

    totals = client.totals
    assert totals.requests == 2
    assert totals.usage.prompt_tokens == first.usage.prompt_tokens + second.usage.prompt_tokens
    assert totals.usage.completion_tokens > 0


async def test_fake_server_in_its_own_process_is_scripted_over_http() -> None:
    async with FakeOpenAIProcess() as llm:
        await llm.push(tool_call("send_message", message="from the script"))
        await llm.block()
        client = LLMClient(base_url=llm.base_url, api_key="test", retry=FAST)

        pending = asyncio.create_task(client.complete(ASK_GPT4O))
        async with asyncio.timeout(5):
            await llm.wait_for_in_flight(1)
        assert not pending.done()
        await llm.unblock()
        completion = await pending
        await client.aclose()

        assert json.loads(completion.tool_calls[0].arguments) == {"message": "from the script"}
        assert (await llm.requests())[0]["messages"][-1]["content"] == "hi"
        assert (await llm.state())["in_flight"] == 0
