"""The LLM client streaming a step (server-sent events) through the real `openai` SDK against
the fake OpenAI-compatible server: the same calls as a whole answer, told as they arrive."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace

import pytest

from engine.llm import ChatRequest, LLMClient
from tests.fakes.local_server import ServerQuirks
from tests.fakes.openai_server import FakeOpenAI, tool_calls

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": name,
            "parameters": {"type": "object", "properties": {arg: {"type": "string"}}},
        },
    }
    for name, arg in (("send_message", "message"), ("archival_memory_search", "query"))
]
ASK = ChatRequest("gpt-4o", [{"role": "user", "content": "hi"}], TOOLS)
TWO_CALLS = tool_calls(
    ("archival_memory_search", {"query": "birthday"}),
    ("send_message", {"message": 'Happy "birthday", Ann! 🎂\nSee you.'}),
)


@dataclass
class Heard:
    """What a listener was told, in order."""

    events: list[tuple[str, int, str]] = field(default_factory=list)

    def call_started(self, position: int, name: str) -> None:
        self.events.append(("call", position, name))

    def arguments_arrived(self, position: int, fragment: str) -> None:
        self.events.append(("arguments", position, fragment))

    def finished(self) -> None:
        self.events.append(("finished", -1, ""))

    def abandoned(self) -> None:
        self.events.append(("abandoned", -1, ""))

    def arguments(self, position: int) -> str:
        return "".join(f for kind, p, f in self.events if kind == "arguments" and p == position)


@pytest.fixture
async def llm() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as server:
        server.stream_pacing.piece = 5
        yield server


async def test_a_streamed_step_is_the_same_step_told_as_it_arrives(llm: FakeOpenAI) -> None:
    client = LLMClient(base_url=llm.base_url, api_key="k")
    llm.push(TWO_CALLS, TWO_CALLS)
    whole = await client.complete(ASK)
    heard = Heard()
    streamed = await client.complete(replace(ASK, listener=heard))
    await client.aclose()

    body = llm.chat_requests[-1]
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert "stream" not in llm.chat_requests[0]
    assert [(c.name, c.arguments) for c in streamed.tool_calls] == [
        (c.name, c.arguments) for c in whole.tool_calls
    ]
    assert streamed.usage == whole.usage
    assert streamed.usage.completion_tokens > 0
    assert [e for e in heard.events if e[0] == "call"] == [
        ("call", 0, "archival_memory_search"),
        ("call", 1, "send_message"),
    ]
    # The arguments came in pieces, and the pieces make the whole arguments.
    assert sum(1 for kind, p, _ in heard.events if kind == "arguments" and p == 1) > 3
    assert json.loads(heard.arguments(1)) == {"message": 'Happy "birthday", Ann! 🎂\nSee you.'}
    assert heard.events[-1] == ("finished", -1, "")


async def test_calls_written_as_text_are_read_from_a_stream_too(llm: FakeOpenAI) -> None:
    llm.quirks = ServerQuirks(calls_as="tagged")
    llm.push(TWO_CALLS)
    client = LLMClient(base_url=llm.base_url, api_key="k")
    completion = await client.complete(replace(ASK, listener=Heard()))
    await client.aclose()
    assert [c.name for c in completion.tool_calls] == ["archival_memory_search", "send_message"]
    assert completion.text is None


async def test_with_streaming_off_the_listener_hears_nothing(llm: FakeOpenAI) -> None:
    client = LLMClient(base_url=llm.base_url, api_key="k", stream=False)
    llm.push(TWO_CALLS)
    heard = Heard()
    completion = await client.complete(replace(ASK, listener=heard))
    await client.aclose()
    assert "stream" not in llm.chat_requests[-1]
    assert len(completion.tool_calls) == 2
    assert heard.events == []


async def test_a_server_that_refuses_streaming_is_asked_whole_from_then_on(
    llm: FakeOpenAI,
) -> None:
    llm.quirks = ServerQuirks(refuses_streaming=True)
    llm.push(TWO_CALLS, TWO_CALLS)
    client = LLMClient(base_url=llm.base_url, api_key="k")
    first = await client.complete(replace(ASK, listener=Heard()))
    second = await client.complete(replace(ASK, listener=Heard()))
    await client.aclose()
    assert len(first.tool_calls) == len(second.tool_calls) == 2
    assert [body.get("stream", False) for body in llm.chat_requests] == [True, False, False]
