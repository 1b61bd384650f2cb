"""A forgotten message leaves nothing in the vectors of the messages that followed it.

Each message is embedded with the turn before it, so the message after a forgotten one carried
the forgotten words in its vector: forgetting embeds it again with the turn before it as the
store now holds it, on both stores.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from engine.forgetting import Forgetting
from engine.ports import ReceiveOutcome
from engine.records import Author, Inbound, InboundKind, Message, Role, new_id, utcnow
from engine.search import HybridSearch
from engine.store.lineage import Derived, links
from engine.store.protocol import RecordFilter, Store
from engine.user_data import UserDataService
from tests.contract.conftest import backend, store
from tests.contract.records import AGENT, BASE_TIME, PUBLIC, WS, message, visible_to
from tests.fakes.embedder import RecordingEmbedder
from tests.fakes.openai_server import FakeOpenAI
from tests.harness import bot_running, public, settings_for

__all__ = ["backend", "store"]

#: Alice's distinctive words.
SECRET = "wuzzlefrump glimmerdax"
#: The same channel's twin, where Alice never spoke.
ELSEWHERE = replace(PUBLIC, channel="C-elsewhere")


@pytest.fixture
def embedder() -> RecordingEmbedder:
    return RecordingEmbedder()


@pytest.fixture
def search(store: Store, embedder: RecordingEmbedder) -> HybridSearch:
    return HybridSearch(store, embedder, clock=lambda: BASE_TIME)


async def remember(store: Store, search: HybridSearch, *messages: Message) -> None:
    """Store messages and embed them as the pipeline does (each with the turn before it)."""
    await store.messages.append(messages)
    await search.index_messages(messages)


async def similarity(store: Store, vector: Sequence[float], channel: str, message_id: str) -> float:
    """How near ``vector`` the stored vector of ``message_id`` (of ``channel``) is."""
    hits = await store.messages.search_vector(visible_to(PUBLIC, channel=channel), vector, 10)
    return next(hit.score for hit in hits if hit.record.id == message_id)


async def test_forgetting_a_user_embeds_again_the_message_after_theirs(
    store: Store, search: HybridSearch, embedder: RecordingEmbedder
) -> None:
    await remember(store, search, message("the weather is mild today", PUBLIC, author="carol"))
    await remember(store, search, message(f"my secret words are {SECRET}", PUBLIC, author="alice"))
    after = message("sounds lovely to me", PUBLIC, author="bob")
    await remember(store, search, after)
    # The same conversation where Alice never spoke.
    await remember(store, search, message("the weather is mild today", ELSEWHERE, author="carol"))
    twin = message("sounds lovely to me", ELSEWHERE, author="bob")
    await remember(store, search, twin)
    query = (await embedder.embed([SECRET]))[0].tolist()
    before = await similarity(store, query, PUBLIC.channel, after.id)
    assert before > await similarity(store, query, ELSEWHERE.channel, twin.id)

    await UserDataService(store, search).forget_user(WS, "alice")

    # The vector Bob's message gets from the turn before it now (Carol's).
    expected = (await search.message_embeddings([after]))[0][1]
    assert "Carol: the weather is mild today\nBob: sounds lovely to me" in embedder.texts
    assert await similarity(store, expected, PUBLIC.channel, after.id) == pytest.approx(1.0)
    now = await similarity(store, query, PUBLIC.channel, after.id)
    assert now == pytest.approx(await similarity(store, query, ELSEWHERE.channel, twin.id))
    assert now < before


async def test_a_redacted_reply_lends_no_context_to_the_message_after_it(
    store: Store, search: HybridSearch, embedder: RecordingEmbedder
) -> None:
    asked = message(f"remember {SECRET}", PUBLIC, author="alice")
    answer = message(f"I will remember {SECRET}", PUBLIC, author=AGENT, role=Role.ASSISTANT)
    after = message("sounds lovely to me", PUBLIC, author="bob")
    await remember(store, search, asked, answer)
    await store.lineage.link(links(Derived.MESSAGE, answer.id, [asked.id], WS))
    await remember(store, search, after)

    embedder.texts.clear()
    await UserDataService(store, search).forget_user(WS, "alice")

    assert embedder.texts == ["Bob: sounds lovely to me"]
    alone = (await search.message_embeddings([after]))[0][1]
    assert await similarity(store, alone, PUBLIC.channel, after.id) == pytest.approx(1.0)


async def test_a_platform_deletion_embeds_again_the_message_after_it(
    store: Store, search: HybridSearch, embedder: RecordingEmbedder
) -> None:
    await remember(store, search, message("the weather is mild today", PUBLIC, author="carol"))
    await remember(store, search, message(SECRET, PUBLIC, author="alice", platform_ref="17.1"))
    after = message("sounds lovely to me", PUBLIC, author="bob")
    await remember(store, search, after)

    embedder.texts.clear()
    await Forgetting(store, search).platform_delete(WS, PUBLIC.channel, "17.1")

    assert embedder.texts == ["Carol: the weather is mild today\nBob: sounds lovely to me"]
    expected = (await search.message_embeddings([after]))[0][1]
    assert await similarity(store, expected, PUBLIC.channel, after.id) == pytest.approx(1.0)


async def test_the_running_bot_embeds_again_what_followed_a_deleted_message(
    tmp_path: Path, llm: FakeOpenAI
) -> None:
    channel = public("C-music")
    async with bot_running(settings_for(tmp_path, llm), llm) as bot:
        engine, store = bot.runtime.engine, bot.runtime.store
        await bot.say(channel, "carol", "the weather is mild today", respond=False)
        await bot.say(channel, "alice", f"my secret words are {SECRET}", respond=False)
        await bot.say(channel, "bob", "sounds lovely to me", respond=False)
        where = RecordFilter.for_audience(bot.runtime.default_agent.id, channel)
        stored = await store.messages.list(where, 10)
        alices = next(m for m in stored if m.author == "alice")
        after = next(m for m in stored if m.author == "bob")
        deletion = Inbound(
            platform="test",
            agent_id=bot.runtime.default_agent.id,
            audience=channel,
            thread="",
            author=Author("alice", "Alice"),
            text="",
            event_id=new_id(),
            message_ref=alices.platform_ref,
            sent_at=utcnow(),
            kind=InboundKind.DELETE,
        )
        assert (await engine.receive(deletion)).outcome is ReceiveOutcome.ACCEPTED

        expected = (await bot.runtime.search.message_embeddings([after]))[0][1]
        hits = await store.messages.search_vector(where, expected, 1)
        assert hits[0].record.id == after.id
        assert hits[0].score == pytest.approx(1.0)


async def test_every_message_after_a_forgotten_one_is_embedded_again_in_one_call(
    store: Store, search: HybridSearch, embedder: RecordingEmbedder
) -> None:
    for n in range(3):
        await remember(store, search, message(f"carol's note {n}", PUBLIC, author="carol"))
        await remember(store, search, message(f"{SECRET} {n}", PUBLIC, author="alice"))
        await remember(store, search, message(f"bob's reply {n}", PUBLIC, author="bob"))
    embedder.calls = 0

    await UserDataService(store, search).forget_user(WS, "alice")

    assert embedder.calls == 1
    assert embedder.texts[-3:] == [
        f"Carol: carol's note {n}\nBob: bob's reply {n}" for n in range(3)
    ]


async def test_around_reads_the_messages_on_each_side_of_a_position(store: Store) -> None:
    said = [message(f"line {n}", PUBLIC, author="carol", seq=10 * n) for n in range(1, 8)]
    await store.messages.append(said)

    window = await store.messages.around(said[0].conversation, 40, 2)

    assert [m.content for m in window] == ["line 2", "line 3", "line 4", "line 5"]
