"""A turn's messages are embedded with the turn before them, taken from what the turn's context
read already holds: the same text a read of the store gives, and never a forgotten message."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from engine.agent.creation import create_agent
from engine.agent.runtime import AgentRuntime
from engine.audience import Audience, AudienceKind
from engine.llm import LLMClient, RetryPolicy
from engine.records import Agent, Author, new_id, utcnow
from engine.search import HybridSearch
from engine.store import open_store
from engine.store.lineage import links_of
from engine.store.protocol import Store
from engine.tokens import TokenCounter
from engine.tools.builtin import DEFAULT_TOOLS
from engine.turns import TurnResult
from engine.user_data import UserDataService
from tests.contract.records import inbox_item
from tests.fakes.embedder import RecordingEmbedder
from tests.fakes.openai_server import FakeOpenAI, tool_call

WORKSPACE = "test:W1"
CHANNEL = Audience(WORKSPACE, AudienceKind.PUBLIC, "C-music")


class Conversation:
    """One channel's turns on the scripted model, stored the way the pipeline stores them."""

    def __init__(self, store: Store, runtime: AgentRuntime, agent: Agent, llm: FakeOpenAI) -> None:
        self.store, self.runtime, self.agent, self.llm = store, runtime, agent, llm

    async def turn(self, user: str, text: str, answer: str, *, store: bool = True) -> TurnResult:
        self.llm.push(tool_call("send_message", message=answer))
        item = inbox_item(new_id(), audience=CHANNEL, text=text, agent=self.agent.id)
        said = replace(item.inbound, author=Author(user, user.capitalize()))
        item = replace(item, inbound=said)
        result = await self.runtime.run([item])
        if store:
            await self.store.messages.append(result.messages, links_of(result.links))
        return result


@pytest.fixture
def embedder() -> RecordingEmbedder:
    return RecordingEmbedder()


@pytest.fixture
async def conversation(
    tmp_path: Path, llm: FakeOpenAI, embedder: RecordingEmbedder
) -> AsyncIterator[Conversation]:
    store = await open_store(mongodb_uri=None, data_dir=tmp_path)
    client = LLMClient(
        base_url=llm.base_url, api_key="test-key", retry=RetryPolicy(total_seconds=5.0)
    )
    search = HybridSearch(store, embedder, clock=utcnow)
    runtime = AgentRuntime(store, client, functools.cache(TokenCounter), search, embedder)
    agent = await create_agent(store, "mnemo", model="gpt-4o-mini", tools=DEFAULT_TOOLS)
    try:
        yield Conversation(store, runtime, agent, llm)
    finally:
        await client.aclose()
        await store.close()


async def test_turn_before_from_the_context_read_is_the_one_the_store_gives(
    conversation: Conversation, embedder: RecordingEmbedder
) -> None:
    await conversation.turn("bob", "Which instrument are you learning?", "The cello, I think.")
    result = await conversation.turn("alice", "Three lessons so far", "Keep going!", store=False)
    assert result.seen is not None

    embedder.texts.clear()
    from_read = await conversation.runtime.message_embeddings(result.messages, result.seen)
    read_texts = list(embedder.texts)
    embedder.texts.clear()
    from_store = await conversation.runtime.message_embeddings(result.messages)

    assert read_texts == embedder.texts
    assert read_texts[0] == "Bob: Which instrument are you learning?\nAlice: Three lessons so far"
    assert from_read == from_store


async def test_a_forgotten_message_never_lends_context_to_a_new_one(
    conversation: Conversation, embedder: RecordingEmbedder
) -> None:
    await conversation.turn("alice", "Hello there", "Hi Alice!")
    await conversation.turn("bob", "My passport number is X123", "Noted.")
    await UserDataService(conversation.store).forget_user(WORKSPACE, "bob")
    result = await conversation.turn("alice", "Anything new?", "Not much.", store=False)

    embedder.texts.clear()
    await conversation.runtime.message_embeddings(result.messages, result.seen)
    read_texts = list(embedder.texts)
    embedder.texts.clear()
    await conversation.runtime.message_embeddings(result.messages)

    assert not any("X123" in text for text in read_texts)
    assert read_texts == embedder.texts
