"""Forget tried adversarially: a user's words copied into every kind of derived record, then
forgotten; every table, collection and (on SQLite) the raw database files are searched for them.

Records are written the way the runtime writes them, straight into the store with their
lineage: block lines in channel, persona, shared and other users' blocks, passages, a digest, a
summary, the agent's own messages and tool calls quoting them, the reply sent, agent mail.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from engine.audience import Scope
from engine.records import Agent, Author, Block, Message, Role, Summary, ToolCall, shared_owner
from engine.store.lineage import Derived, Link, block_line_id, links
from engine.store.mongo import MongoStore
from engine.store.protocol import Store
from engine.store.queues import InboxStatus
from engine.store.sqlite import SQLiteStore
from engine.user_data import UserDataService
from tests.contract.conftest import backend, store
from tests.contract.records import (
    AGENT,
    BASE_TIME,
    DM_ALICE,
    PRIVATE,
    PUBLIC,
    WS,
    axis,
    block,
    inbox_item,
    message,
    passage,
    reply,
    visible_to,
)
from tests.contract.test_mail import mail
from tests.fakes.openai_server import FakeOpenAI, tool_call
from tests.harness import dm, private, public
from tests.integration.test_lineage_turns import llm, running

__all__ = ["backend", "llm", "store"]

#: Alice's distinctive words: said in her DM, a private channel, a public channel, a thread.
SECRETS = {"dm": "zorblax", "private": "xyloquark", "public": "wuzzlefrump", "thread": "kvetchburg"}
#: Bob's word, which must stay wherever only he is the source.
BOBS = "marmalite"


def stems(word: str) -> bytes:
    """What any stored form of ``word`` contains (full-text terms are stemmed)."""
    return word[:6].encode()


@dataclass
class Scene:
    """Alice's and Bob's messages, and the records derived from them."""

    said: dict[str, Message]
    bob_said: Message
    channel: Block
    persona: Block
    shared: Block
    bob_human: Block
    bob_passage: str


async def _block(store: Store, made: Block, lines: dict[str, list[str]]) -> Block:
    """A block whose value is ``lines``' keys, each linked to its sources."""
    created = await store.blocks.create(replace(made, value="\n".join(lines)))
    await store.lineage.link(
        [
            link
            for line, sources in lines.items()
            for link in links(Derived.BLOCK_LINE, block_line_id(created.id, line), sources, WS)
        ]
    )
    return created


async def _derived(store: Store, kind: Derived, record_id: str, *sources: str) -> list[Link]:
    found = links(kind, record_id, sources, WS)
    await store.lineage.link(found)
    return found


async def stage(store: Store) -> Scene:
    await store.agents.put(Agent(AGENT, "Ada", "m", "", (), shared_blocks=("team",)))
    said = {
        "dm": message(f"my locker code is {SECRETS['dm']}", DM_ALICE),
        "private": message(f"the project is called {SECRETS['private']}", PRIVATE),
        "public": message(f"I paint everything {SECRETS['public']}", PUBLIC),
        "thread": message(f"the {SECRETS['thread']} deadline moved", PUBLIC, thread="17.1"),
    }
    bob_said = message(f"I collect {BOBS} spoons", PUBLIC, author="bob")
    await store.messages.append([*said.values(), bob_said])
    ids = {key: m.id for key, m in said.items()}
    pub, thread, private, dm = ids["public"], ids["thread"], ids["private"], ids["dm"]

    alice_human = await _block(
        store,
        block("human", "", subject="alice"),
        {f"Alice's locker code is {SECRETS['dm']}": [dm]},
    )
    [alice_line] = alice_human.value.split("\n")
    channel = await _block(
        store,
        block("channel", "", subject=PUBLIC.channel),
        {
            "This channel is about design.": [],
            f"Alice paints everything {SECRETS['public']}.": [pub],
            f"Bob collects {BOBS} spoons.": [bob_said.id],
            f"The team likes {SECRETS['thread']} and {BOBS}.": [thread, bob_said.id],
        },
    )
    persona = await _block(
        store,
        block("persona", "", workspace=WS, scope=Scope.agent()),
        {"I am Ada.": [], f"I know the {SECRETS['private']} codename.": [private]},
    )
    shared = await _block(
        store,
        block("notes", "", owner=shared_owner("team")),
        {f"Deadline of {SECRETS['thread']} moved.": [thread], "Standup is at ten.": []},
    )
    bob_human = await _block(
        store,
        block("human", "", subject="bob"),
        {
            f"Bob sits next to the {SECRETS['dm']} locker.": [
                block_line_id(alice_human.id, alice_line)
            ],
            f"Bob collects {BOBS}.": [bob_said.id],
        },
    )

    quoted = passage(f"Alice: paints {SECRETS['public']}", tags=(f"{SECRETS['public']}-fans",))
    copied = passage(f"Project {SECRETS['private']} is secret", PRIVATE, embedding=axis(3))
    in_dm = passage(f"Locker {SECRETS['dm']}", DM_ALICE, users=("alice",))
    digest = passage(f"Digest: {SECRETS['thread']} and {BOBS}", tags=("digest",))
    bobs = passage(f"{BOBS} is Bob's hobby", tags=(BOBS,))
    await store.passages.insert([quoted, copied, in_dm, digest, bobs])
    await _derived(store, Derived.PASSAGE, quoted.id, pub)
    await _derived(store, Derived.PASSAGE, copied.id, private)
    await _derived(store, Derived.DIGEST, digest.id, thread, bob_said.id)
    await _derived(store, Derived.PASSAGE, bobs.id, bob_said.id)
    # A line built on a passage search returned: linked to the passage and its roots.
    await store.lineage.link(
        links(
            Derived.BLOCK_LINE,
            block_line_id(channel.id, "This channel is about design."),
            [bobs.id, bob_said.id],
            WS,
        )
    )

    # Bob asks about Alice; the agent answers from memory, quoting her, and notes it.
    asked = inbox_item("ev-bob", text="what does alice paint?")
    asked = replace(asked, inbound=replace(asked.inbound, author=Author("bob", "Bob")))
    await store.inbox.put(asked)
    await store.inbox.mark(asked.id, InboxStatus.DONE)
    call = ToolCall("c1", "core_memory_append", json.dumps({"content": SECRETS["public"]}))
    answer = replace(
        message(f"Alice paints {SECRETS['public']}", author=AGENT, role=Role.ASSISTANT),
        tool_calls=(call,),
        turn_id=asked.id,
    )
    result = replace(
        message(f"Appended: {SECRETS['public']}", author="", role=Role.TOOL), turn_id=asked.id
    )
    await store.messages.append([answer, result])
    await store.messages.set_embeddings([(answer.id, axis(1))])
    for derived in (answer, result):
        await _derived(store, Derived.MESSAGE, derived.id, pub)
    sent = reply(asked.id, 0, f"Alice paints {SECRETS['public']}")
    await store.outbox.put([sent])
    await store.outbox.mark_delivered(sent.id, "17.9")

    # Alice's own copy in the inbox, a summary retelling the channel, and mail on her behalf.
    hers = inbox_item("ev-alice", text=said["private"].content, audience=PRIVATE)
    await store.inbox.put(hers)
    await store.inbox.mark(hers.id, InboxStatus.DONE)
    summary = Summary(
        AGENT, WS, PUBLIC.channel, "", PUBLIC.write_scope,
        f"Alice paints {SECRETS['public']}; Bob collects {BOBS}.", answer.seq, 0, BASE_TIME,
    )  # fmt: skip
    await store.summaries.put(summary, 0)
    await _derived(store, Derived.SUMMARY, str(summary.conversation), pub, bob_said.id)
    await store.inbox.put_rejected(
        "slack", {"event": {"user": "alice", "text": SECRETS["dm"]}}, "unreadable"
    )
    await store.mail.put(mail("mail-1", PRIVATE))
    await _derived(store, Derived.MAIL, "mail-1", private)
    return Scene(said, bob_said, channel, persona, shared, bob_human, bobs.id)


async def test_forget_leaves_none_of_a_users_words_anywhere(store: Store) -> None:
    scene = await stage(store)
    assert _found_in(await dump(store))  # the scan sees them before

    report = await UserDataService(store).forget_user(WS, "alice")

    assert _found_in(await dump(store)) == set()
    assert report.messages == 4
    assert report.redacted_messages == 2
    assert report.block_lines >= 5
    assert report.passages >= 3
    assert report.digests == 1
    assert report.summaries == 1
    assert report.mail == 1
    assert report.outbox == 1
    assert report.inbox >= 1
    if isinstance(store, SQLiteStore):
        assert not _in_files(store.path)
        await store.close()
        assert not _in_files(store.path)

    # What only Bob (or nobody) said stays; a line Alice shared with Bob goes.
    if isinstance(store, SQLiteStore):
        await store.setup()
    assert await _value(store, scene.channel) == "This channel is about design.\n" + (
        f"Bob collects {BOBS} spoons."
    )
    assert await _value(store, scene.persona) == "I am Ada."
    assert await _value(store, scene.shared) == "Standup is at ten."
    assert await _value(store, scene.bob_human) == f"Bob collects {BOBS}."
    assert await store.passages.get(scene.bob_passage) is not None
    everything = visible_to(PUBLIC)
    assert [m.id for m in await store.messages.list(everything, 10) if m.author == "bob"] == [
        scene.bob_said.id
    ]
    assert await store.passages.tag_counts(everything) == {BOBS: 1}


async def test_forgetting_one_line_takes_what_was_built_on_it(store: Store) -> None:
    scene = await stage(store)
    service = UserDataService(store)
    line = block_line_id(scene.channel.id, f"Bob collects {BOBS} spoons.")

    assert (await service.forget_memory("elsewhere", Derived.BLOCK_LINE, line)).total == 0
    report = await service.forget_memory(WS, Derived.BLOCK_LINE, line)

    assert report.block_lines == 1
    left = (await _value(store, scene.channel)).split("\n")
    assert f"Bob collects {BOBS} spoons." not in left
    # Records built on Bob's message stay: they came from his message, not from this line.
    assert len(left) == 3
    assert await store.passages.get(scene.bob_passage) is not None


async def test_forgetting_a_passage_takes_the_line_built_on_it(store: Store) -> None:
    scene = await stage(store)
    report = await UserDataService(store).forget_memory(WS, Derived.PASSAGE, scene.bob_passage)
    assert report.passages == 1
    assert await store.passages.get(scene.bob_passage) is None
    assert "about design" not in await _value(store, scene.channel)


@pytest.fixture(params=["sqlite", "mongo"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def test_forget_after_real_turns_leaves_none_of_the_words(
    kind: str, tmp_path: Path, llm: FakeOpenAI
) -> None:
    """The whole runtime, a scripted model copying each of Alice's words into every memory it
    can reach and into its replies, then ``forget``."""
    where = {
        "dm": (dm("alice"), ""),
        "private": (private("hush"), ""),
        "public": (public("general"), ""),
        "thread": (public("general"), "t-1"),
    }
    async with running(kind, tmp_path, llm) as bot:
        for key, (audience, thread) in where.items():
            word = SECRETS[key]
            # Into every block the turn can write, archival, and the reply.
            llm.push(
                *(
                    tool_call("core_memory_append", label=label, content=f"{label}: {word}.")
                    for label in ("channel", "persona", "team")
                ),
                tool_call("archival_memory_insert", content=f"Alice said {word}."),
                tool_call("send_message", message=f"Noted: {word}!"),
            )
            await bot.say(audience, "alice", f"Remember {word}, please.", thread=thread)
        # Bob's turn copies Alice's public word from the window next to his own.
        llm.push(
            tool_call(
                "core_memory_append",
                label="channel",
                content=f"{SECRETS['public']} and {BOBS} both matter.",
            ),
            tool_call("core_memory_append", label="channel", content=f"Bob: {BOBS}."),
            tool_call("send_message", message="Both noted."),
        )
        await bot.say(public("general"), "bob", f"And {BOBS} matters to me.")
        store = bot.runtime.store
        assert _found_in(await dump(store)) == set(SECRETS.values())

        report = await bot.runtime.user_data.forget_user("test:W1", "alice")

        assert report.messages >= 4
        assert _found_in(await dump(store)) == set()
        if isinstance(store, SQLiteStore):
            assert not _in_files(store.path)
        assert any(BOBS in text for text in await dump(store))


async def test_deleted_rows_are_zeroed_in_the_sqlite_file(tmp_path: Path) -> None:
    """Mnemo sets ``secure_delete`` itself: a deleted record's bytes do not stay in free space
    of the file, whatever the library's default."""
    store = SQLiteStore(tmp_path / "mnemo.sqlite3")
    await store.setup()
    await store.kv.put("notes", "alice", {"text": f"alice's word is {SECRETS['dm']}"})
    await store.kv.put("notes", "bob", {"text": f"bob's word is {BOBS}"})
    await store.settle_forget()
    assert _in_files(store.path) == [SECRETS["dm"]]
    await store.kv.delete("notes", "alice")
    await store.settle_forget()
    await store.close()
    assert _in_files(store.path) == []
    assert BOBS.encode() in store.path.read_bytes()


def _in_files(path: Path) -> list[str]:
    """Which of the words any of the SQLite files holds, in any stored form."""
    contents = [p.read_bytes().lower() for p in database_files(path)]
    return [word for word in SECRETS.values() if any(stems(word) in data for data in contents)]


async def _value(store: Store, made: Block) -> str:
    found = await store.blocks.get(made.id)
    assert found is not None
    return found.value


def _found_in(dumped: list[str]) -> set[str]:
    return {word for word in SECRETS.values() for text in dumped if stems(word).decode() in text}


async def dump(store: Store) -> list[str]:
    """Every value of every row of every table, or of every document of every collection."""
    if isinstance(store, SQLiteStore):
        with sqlite3.connect(store.path) as conn:
            tables = [
                row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            ]
            return [
                (value.decode(errors="replace") if isinstance(value, bytes) else str(value)).lower()
                for table in tables
                for row in conn.execute(f'SELECT * FROM "{table}"')
                for value in row
            ]
    assert isinstance(store, MongoStore)
    database = store.database
    return [
        json.dumps(doc, default=str).lower()
        for name in await database.list_collection_names()
        async for doc in database[name].find({})
    ]


def database_files(path: Path) -> list[Path]:
    """The database file and its write-ahead log and shared-memory files, where present."""
    return [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()]
