"""A custom tool in a whole agent turn: offered to the model, run in the sandbox, and reaching
memory only as the agent itself could."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from engine.agent.creation import create_agent
from engine.agent.runtime import AgentRuntime, ToolProvider
from engine.audience import Audience, AudienceKind
from engine.llm import LLMClient, RetryPolicy
from engine.records import Agent, Author, Inbound, new_id, next_seq, utcnow
from engine.search import HybridSearch
from engine.store import open_store
from engine.store.lineage import links_of
from engine.store.protocol import Store
from engine.store.queues import InboxItem, InboxStatus
from engine.tokens import TokenCounter
from engine.tools.base import Tool
from engine.tools.builtin import DEFAULT_TOOLS
from engine.tools.custom import tool_from_source
from engine.tools.sandbox import Sandbox, SandboxedTool, SandboxLimits
from tests.fakes.embedder import HashEmbedder
from tests.fakes.openai_server import FakeOpenAI, tool_call

PET_MEMO = '''
from mnemo_tool import memory


def pet_memo(pet: str = "") -> str:
    """Note the user's pet (when given) and show what is known about the user.

    Args:
        pet: The pet's name, to remember.
    """
    if pet:
        memory.append("human", f"Pet: {pet}")
    return "known: " + memory.read("human")
'''
WORKSPACE = "test:W1"


class Turns:
    """The agent runtime with the custom tool, driven one inbound message at a time."""

    def __init__(self, store: Store, runtime: AgentRuntime, agent: Agent, llm: FakeOpenAI) -> None:
        self.store = store
        self.runtime = runtime
        self.agent = agent
        self.llm = llm

    async def say(self, audience: Audience, user: str, text: str) -> list[str]:
        message_id = new_id()
        inbound = Inbound(
            platform="test",
            agent_id=self.agent.id,
            audience=audience,
            thread="",
            author=Author(user, user.capitalize()),
            text=text,
            event_id=message_id,
            message_ref=message_id,
            sent_at=utcnow(),
        )
        item = InboxItem(
            message_id, inbound, str(inbound.conversation), next_seq(), InboxStatus.PENDING
        )
        result = await self.runtime.run([item])
        # What the pipeline does with a turn's result: store its messages and their lineage.
        await self.store.messages.append(result.messages, links_of(result.links))
        return [reply.text for reply in result.replies]

    def tool_results(self) -> list[str]:
        """Tool results of the last turn (those after its user message)."""
        messages = self.llm.chat_requests[-1]["messages"]
        last_user = max(i for i, m in enumerate(messages) if m["role"] == "user")
        return [m["content"] for m in messages[last_user:] if m["role"] == "tool"]


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await open_store(mongodb_uri=None, data_dir=tmp_path)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def turns(store: Store) -> AsyncIterator[Turns]:
    tool = tool_from_source(PET_MEMO, "pet_memo", origin="pets.py")
    sandboxed = SandboxedTool(tool, Sandbox(), SandboxLimits(wall_seconds=5.0))

    class CustomTools:
        async def tools_for(self, agent: Agent) -> Mapping[str, Tool]:
            return {tool.name: sandboxed}

    async with agent_turns(store, [CustomTools()], "petbot", [tool.name]) as running:
        yield running


@contextlib.asynccontextmanager
async def agent_turns(
    store: Store, providers: Sequence[ToolProvider], name: str, tools: Sequence[str]
) -> AsyncIterator[Turns]:
    """An agent with the default tools and ``tools`` from ``providers``, on the scripted
    model, driven one inbound message at a time."""
    async with FakeOpenAI() as llm:
        client = LLMClient(
            base_url=llm.base_url, api_key="test-key", retry=RetryPolicy(total_seconds=5.0)
        )
        embedder = HashEmbedder()
        runtime = AgentRuntime(
            store,
            client,
            functools.cache(TokenCounter),
            HybridSearch(store, embedder, clock=utcnow),
            embedder,
            tool_providers=providers,
        )
        agent = await create_agent(store, name, model="gpt-4o-mini", tools=(*DEFAULT_TOOLS, *tools))
        try:
            yield Turns(store, runtime, agent, llm)
        finally:
            await client.aclose()


def dm(user: str) -> Audience:
    return Audience(WORKSPACE, AudienceKind.DM, f"D-{user}", user)


def public(channel: str) -> Audience:
    return Audience(WORKSPACE, AudienceKind.PUBLIC, channel)


async def test_custom_tool_is_offered_with_its_schema_and_its_result_reaches_the_model(
    turns: Turns,
) -> None:
    turns.llm.push(
        tool_call("pet_memo", pet="Biscuit"), tool_call("send_message", message="Noted.")
    )
    assert await turns.say(dm("alice"), "alice", "My corgi is Biscuit.") == ["Noted."]
    offered: dict[str, Any] = {
        t["function"]["name"]: t["function"] for t in turns.llm.chat_requests[0]["tools"]
    }
    assert offered["pet_memo"]["parameters"]["properties"]["pet"] == {
        "type": "string",
        "description": "The pet's name, to remember.",
        "default": "",
    }
    assert turns.tool_results() == ["known: Pet: Biscuit"]


async def test_custom_tool_memory_follows_the_audience(turns: Turns) -> None:
    turns.llm.push(tool_call("pet_memo", pet="Biscuit"), tool_call("send_message", message="ok"))
    await turns.say(dm("alice"), "alice", "My corgi is Biscuit.")

    # Learned in alice's DM: invisible to her in a public channel and to bob in his DM.
    turns.llm.push(tool_call("pet_memo"), tool_call("send_message", message="ok"))
    await turns.say(public("C-general"), "alice", "What do you know about me?")
    assert turns.tool_results() == ["known: "]

    turns.llm.push(tool_call("pet_memo"), tool_call("send_message", message="ok"))
    await turns.say(dm("bob"), "bob", "What do you know about me?")
    assert turns.tool_results() == ["known: "]

    turns.llm.push(tool_call("pet_memo"), tool_call("send_message", message="ok"))
    await turns.say(dm("alice"), "alice", "And here?")
    assert turns.tool_results() == ["known: Pet: Biscuit"]


async def test_a_failing_custom_tool_is_a_tool_error_and_the_turn_goes_on(turns: Turns) -> None:
    turns.llm.push(
        tool_call("pet_memo", pet=42),
        tool_call("send_message", message="That did not work."),
    )
    assert await turns.say(dm("bob"), "bob", "Remember my pet 42.") == ["That did not work."]
    assert turns.tool_results() == [
        "Error: invalid arguments for pet_memo: pet must be string, not integer."
    ]
