"""Lineage written by real turns: a scripted model copies a user's words into every kind of
memory, and each copy is found from the message it came from, on both stores.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from engine.agent.memory import TurnMemory
from engine.audience import Audience
from engine.records import Author, Role
from engine.store.lineage import Derived, DerivedRecord, block_line_id
from engine.store.protocol import Store
from engine.store.sqlite import SQLiteStore
from tests.fakes.openai_server import FakeOpenAI, Step, tool_call
from tests.harness import Bot, bot_running, dm, private, public, settings_for
from tests.integration.test_multi_agent_tools import (
    AGENTS_FILE,
    delivered,
    last_user,
    said,
    scripted,
    tool_results,
    worker,
)
from tests.integration.test_privacy_attacks import SHARED_TEAM_BLOCK

WS = "test:W1"


@pytest.fixture(params=["sqlite", "mongo"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def llm() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as server:
        yield server


@asynccontextmanager
async def running(
    backend: str,
    tmp_path: Path,
    llm: FakeOpenAI,
    agents: tuple[str, str] = (SHARED_TEAM_BLOCK, "alpha"),
    **overrides: object,
) -> AsyncIterator[Bot]:
    """The whole bot on ``backend``, with the ``agents`` file and the agent it talks to (by
    default one agent with a shared team block)."""
    agents_file = tmp_path / "agents.yaml"
    agents_file.write_text(agents[0])
    if backend == "mongo":
        from tests.fakes.mongo_wire import mongo_test_uri

        overrides |= {
            "MONGODB_URI": mongo_test_uri(),
            "MONGODB_DATABASE": f"test_{uuid.uuid4().hex[:12]}",
        }
    settings = settings_for(
        tmp_path, llm, MNEMO_AGENTS_FILE=agents_file, MNEMO_AGENT=agents[1], **overrides
    )
    async with bot_running(settings, llm) as bot:
        yield bot


def store_of(bot: Bot) -> Store:
    return bot.runtime.store


async def said_by(bot: Bot, user: str) -> list[str]:
    return await store_of(bot).messages.ids_of_user(WS, user)


async def line_ids(bot: Bot, audience: Audience, label: str, words: str) -> list[str]:
    """The lineage ids of the lines of block ``label`` (as ``audience`` sees it) with ``words``."""
    memory = TurnMemory(
        store_of(bot).blocks,
        bot.runtime.default_agent,
        audience,
        speaker=Author("alice", "Alice"),
        channel_name=audience.channel,
        shared=("team",),
    )
    view = await memory.view(label)
    found = [
        block_line_id(part.id, line)
        for part in view.parts
        for line in part.value.split("\n")
        if words in line
    ]
    assert found, f"no line of {label!r} holds {words!r}"
    return found


async def line_sources(bot: Bot, audience: Audience, label: str, words: str) -> set[str]:
    """The sources of the one line of block ``label`` that holds ``words``."""
    [line] = await line_ids(bot, audience, label, words)
    sources = await store_of(bot).lineage.sources_of(Derived.BLOCK_LINE, [line])
    return set(sources[line])


def of_kind(records: list[DerivedRecord], kind: Derived) -> set[str]:
    return {r.record_id for r in records if r.kind is kind}


async def test_words_copied_into_every_memory_are_derived_from_their_message(
    backend: str, tmp_path: Path, llm: FakeOpenAI
) -> None:
    fact = "wuzzlefrump launches on 12 May"
    async with running(backend, tmp_path, llm) as bot:
        llm.push(
            tool_call("core_memory_append", label="channel", content=f"Plan: {fact}."),
            tool_call("core_memory_append", label="persona", content=f"I track {fact}."),
            tool_call("core_memory_append", label="team", content=f"Team: {fact}."),
            tool_call("archival_memory_insert", content=f"Alice said {fact}."),
            tool_call("send_message", message=f"Noted: {fact}!"),
        )
        await bot.say(public("general"), "alice", f"Heads up: {fact}.")
        [said] = await said_by(bot, "alice")
        derived = await store_of(bot).lineage.derived_from([said])

        lines = of_kind(derived, Derived.BLOCK_LINE)
        for label in ("channel", "persona", "team"):
            assert set(await line_ids(bot, public("general"), label, fact)) <= lines, label
        passages = await store_of(bot).passages.ids_of_user(WS, "alice")
        assert passages
        assert set(passages) <= of_kind(derived, Derived.PASSAGE)

        agents_messages = await store_of(bot).messages.by_ids(
            sorted(of_kind(derived, Derived.MESSAGE))
        )
        replies = [
            call.arguments
            for m in agents_messages
            for call in m.tool_calls
            if call.name == "send_message"
        ]
        assert any(fact in reply for reply in replies), "the reply is derived from the message"


async def test_a_fact_copied_turns_later_is_traced_to_its_speaker(
    backend: str, tmp_path: Path, llm: FakeOpenAI
) -> None:
    async with running(backend, tmp_path, llm) as bot:
        llm.push(tool_call("send_message", message="Nice."))
        await bot.say(public("general"), "alice", "I keep a pet axolotl called Quetzal.")
        for user, text in (("bob", "lunch at noon?"), ("carol", "sure"), ("dan", "count me in")):
            llm.push(tool_call("send_message", message="ok"))
            await bot.say(public("general"), user, text)
        llm.push(
            tool_call("core_memory_append", label="channel", content="Alice: axolotl Quetzal."),
            tool_call("send_message", message="Noted."),
        )
        await bot.say(public("general"), "erin", "please remember our pets")

        [alices] = await said_by(bot, "alice")
        [line] = await line_ids(bot, public("general"), "channel", "Quetzal")
        lineage = store_of(bot).lineage
        assert line in of_kind(await lineage.derived_from([alices]), Derived.BLOCK_LINE)
        [bobs] = await said_by(bot, "bob")
        assert line not in of_kind(await lineage.derived_from([bobs]), Derived.BLOCK_LINE)


async def test_a_passage_found_and_copied_into_a_block_links_the_passage_and_its_sources(
    backend: str, tmp_path: Path, llm: FakeOpenAI
) -> None:
    async with running(backend, tmp_path, llm) as bot:
        llm.push(
            tool_call("archival_memory_insert", content="The vault code is 8812 glimmer."),
            tool_call("send_message", message="Kept."),
        )
        await bot.say(public("ops"), "alice", "The vault code is 8812 glimmer.")
        llm.push(
            tool_call("archival_memory_search", query="vault code"),
            tool_call("core_memory_append", label="channel", content="Vault: 8812 glimmer."),
            tool_call("send_message", message="Done."),
        )
        await bot.say(public("general"), "bob", "what opens the vault? keep it here")

        [alices] = await said_by(bot, "alice")
        [passage] = await store_of(bot).passages.ids_of_user(WS, "alice")
        assert {passage, alices} <= await line_sources(bot, public("general"), "channel", "8812")


async def test_a_rewritten_line_keeps_the_sources_of_the_line_it_replaces(
    backend: str, tmp_path: Path, llm: FakeOpenAI
) -> None:
    async with running(backend, tmp_path, llm) as bot:
        llm.push(
            tool_call("core_memory_append", label="channel", content="Standup is at 9:40."),
            tool_call("send_message", message="Noted."),
        )
        await bot.say(public("general"), "alice", "Standup moves to 9:40 from now on.")
        # In a thread, whose window does not hold Alice's message, Bob has the block rewritten.
        llm.push(
            tool_call("memory_rethink", label="channel", new_memory="Standup: 9:40, short."),
            tool_call("send_message", message="Tidied."),
        )
        await bot.say(public("general"), "bob", "tidy the channel notes", thread="t-1")

        [alices] = await said_by(bot, "alice")
        [bobs] = await said_by(bot, "bob")
        assert {alices, bobs} <= await line_sources(bot, public("general"), "channel", "short")


async def test_mail_and_a_forwarded_reply_are_derived_from_the_message_that_asked(
    backend: str, tmp_path: Path, llm: FakeOpenAI
) -> None:
    def supervisor(body: dict[str, Any]) -> Step:
        if "did:" in last_user(body):
            return tool_call("send_message", message=f"Done by {said(body)}")
        if not tool_results(body):
            task = last_user(body).rsplit("have worker-2 ", 1)[-1]
            return tool_call("send_message_to_agent_async", agent_name="worker-2", message=task)
        return tool_call("send_message", message="Asked.")

    llm.responder = scripted({"supervisor": supervisor, "worker-2": worker})
    async with running(backend, tmp_path, llm, (AGENTS_FILE, "supervisor")) as bot:
        await bot.say(public("C1"), "bob", "have worker-2 file the zanzibar report")
        await delivered(bot, 2)

        [bobs] = await said_by(bot, "bob")
        derived = await store_of(bot).lineage.derived_from([bobs])
        assert len(of_kind(derived, Derived.MAIL)) == 2, "the request and the reply"
        copies = await store_of(bot).messages.by_ids(sorted(of_kind(derived, Derived.MESSAGE)))
        heard = {m.content for m in copies if m.role is Role.USER}
        assert heard == {"file the zanzibar report", "worker-2 did: file the zanzibar report"}


async def test_a_summary_is_derived_from_the_messages_it_folded(
    backend: str, tmp_path: Path, llm: FakeOpenAI
) -> None:
    async with running(backend, tmp_path, llm, MNEMO_CONTEXT_BUDGET=3000) as bot:
        filler = " ".join(f"line {k} of the plan" for k in range(25))
        llm.push(tool_call("send_message", message="Noted."))
        await bot.say(public("general"), "alice", "My salary is 185k, do not tell anyone.")
        for i in range(20):
            llm.push(tool_call("send_message", message="ok"))
            await bot.say(public("general"), "erin", f"Note {i}: {filler}")

        [alices] = await said_by(bot, "alice")
        [message] = await store_of(bot).messages.by_ids([alices])
        summaries = of_kind(await store_of(bot).lineage.derived_from([alices]), Derived.SUMMARY)
        assert summaries == {str(message.conversation)}


#: Alice's words, one per place she says them.
SECRETS = {"dm": "zorblax", "private": "xyloquark", "public": "wuzzlefrump", "thread": "kvetchburg"}
BOBS = "marmalite"


async def test_after_forget_none_of_the_words_a_model_copied_everywhere_remain(
    backend: str, tmp_path: Path, llm: FakeOpenAI
) -> None:
    """The model copies Alice's words into every memory it can reach, over several turns and
    audiences (and later turns copy them again from what they see); forget leaves none."""
    from tests.integration.test_forget_complete import database_files, dump, stems

    dm_word, private_word = SECRETS["dm"], SECRETS["private"]
    public_word, thread_word = SECRETS["public"], SECRETS["thread"]
    filler = " ".join(f"line {k} of the agenda" for k in range(25))
    async with running(backend, tmp_path, llm, MNEMO_CONTEXT_BUDGET=3000) as bot:
        store = store_of(bot)
        await copied(bot, dm("alice"), f"My code word is {dm_word}.", dm_word, "human", "persona")
        await copied(bot, private("skunk"), f"Project {private_word}.", private_word, "channel")
        launch = f"The launch is {public_word}."
        await copied(bot, public("general"), launch, public_word, "channel", "persona")
        await copied(bot, public("general"), f"Here: {thread_word}.", thread_word, thread="t-1")
        # Bob's turns: the model copies from its window and from a search, not from Bob.
        llm.push(
            tool_call("memory_rethink", label="team", new_memory=f"Recap: {public_word} soon."),
            tool_call("send_message", message="Recapped."),
        )
        await bot.say(public("general"), "bob", "recap the launch for the team please")
        llm.push(
            tool_call("archival_memory_search", query=public_word),
            tool_call("core_memory_append", label="channel", content=f"Next: {public_word}."),
            tool_call("send_message", message="Copied."),
        )
        await bot.say(public("random"), "bob", "what's the launch called? note it here")
        llm.push(
            tool_call("core_memory_append", label="human", content=f"Collects {BOBS}."),
            tool_call("send_message", message="Nice."),
        )
        await bot.say(dm("bob"), "bob", f"I collect {BOBS} spoons.")
        for i in range(8):
            llm.push(tool_call("send_message", message="ok"))
            await bot.say(public("general"), "bob", f"Note {i}: {filler}")
        said = await said_by(bot, "alice")
        derived = await store.lineage.derived_from(said)
        assert of_kind(derived, Derived.SUMMARY), "Alice's public words were folded"
        assert len(of_kind(derived, Derived.PASSAGE)) == 4
        words = set(SECRETS.values())
        assert words <= {w for w in words for text in await dump(store) if w in text}

        await bot.runtime.user_data.forget_user(WS, "alice")

        left = {w for w in words for text in await dump(store) if stems(w).decode() in text}
        assert left == set()
        assert BOBS in " ".join(await line_ids_text(bot, dm("bob"), "human"))
    if isinstance(store, SQLiteStore):
        for path in database_files(store.path):
            data = path.read_bytes().lower()
            assert not [w for w in words if stems(w) in data], path.name


async def copied(
    bot: Bot, audience: Audience, said: str, word: str, *labels: str, thread: str = ""
) -> None:
    """Alice says ``said``; the model copies ``word`` into the blocks ``labels``, the team
    block, archival memory and its reply."""
    bot.llm.push(
        *(
            tool_call("core_memory_append", label=label, content=f"{label}: {word}.")
            for label in (*labels, "team")
        ),
        tool_call("archival_memory_insert", content=f"Alice said {word}."),
        tool_call("send_message", message=f"{word}, noted!"),
    )
    await bot.say(audience, "alice", said, thread=thread)


async def line_ids_text(bot: Bot, audience: Audience, label: str) -> list[str]:
    memory = TurnMemory(
        store_of(bot).blocks,
        bot.runtime.default_agent,
        audience,
        speaker=Author(audience.user or "", ""),
        channel_name=audience.channel,
        shared=("team",),
    )
    return (await memory.view(label)).value.split("\n")
