"""``mnemo memory items | why | forget --item``: a user's items one by one, where a memory came
from, and forgetting one item, as a terminal shows them."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.cli import main
from engine import (
    Agent,
    Audience,
    AudienceKind,
    Derived,
    HybridSearch,
    LocalEmbedder,
    open_store,
    utcnow,
)
from tests.contract.records import message, visible_to
from tests.fakes.memory_items import Remembered, remember_birthday

WORKSPACE = "console:local"
PUBLIC = Audience(WORKSPACE, AudienceKind.PUBLIC, "general")
DM = Audience(WORKSPACE, AudienceKind.DM, "dm-you", "you")


@pytest.fixture
async def remembered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Remembered:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MNEMO_DATA_DIR", str(tmp_path / "data"))
    store = await open_store(mongodb_uri=None, data_dir=tmp_path / "data")
    try:
        await store.agents.put(Agent("agent-1", "ada", "tiny", "", ()))
        return await remember_birthday(
            store, "agent-1", PUBLIC, DM, user="you", name="You", public_ref="", dm_ref=""
        )
    finally:
        await store.close()


async def mnemo(*argv: str) -> int:
    return await asyncio.to_thread(main, list(argv))


async def test_items_lists_each_key_and_text(
    remembered: Remembered, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await mnemo("memory", "items") == 0
    shown = capsys.readouterr().out
    assert f"block_line:{remembered.human_line}\n      human: Birthday cake: lemon" in shown
    assert f"passage:{remembered.passage}" in shown
    assert "Birthday of the week" not in shown  # a channel's note is not about the user


async def test_why_in_a_public_channel_cites_only_what_was_said_there(
    remembered: Remembered, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await mnemo("memory", "why", "birthday", "--channel", "general") == 0
    shown = capsys.readouterr().out
    assert "channel: Birthday of the week: 12 March" in shown
    assert "from You, 2026-03-03 in general" in shown
    assert "lemon" not in shown

    assert await mnemo("memory", "why", "lemon", "birthday") == 0
    in_dm = capsys.readouterr().out
    assert "from You, 2026-03-03 in direct messages" in in_dm


async def test_forget_one_item_leaves_the_others(
    remembered: Remembered, capsys: pytest.CaptureFixture[str]
) -> None:
    key = f"{Derived.PASSAGE.value}:{remembered.passage}"
    assert await mnemo("memory", "forget", "--item", key, "--yes") == 0
    assert capsys.readouterr().out.startswith(f"Forgot {key}: removed ")

    assert await mnemo("memory", "items") == 0
    shown = capsys.readouterr().out
    assert key not in shown
    assert remembered.human_line in shown


async def test_forget_of_an_item_not_the_users_deletes_nothing(
    remembered: Remembered, capsys: pytest.CaptureFixture[str]
) -> None:
    key = f"{Derived.BLOCK_LINE.value}:{remembered.channel_line}"
    assert await mnemo("memory", "forget", "--item", key, "--yes") == 1
    assert "is not an item about you" in capsys.readouterr().err
    assert await mnemo("memory", "why", "week", "--channel", "general") == 0
    assert "Birthday of the week" in capsys.readouterr().out


async def test_forget_from_the_terminal_embeds_again_the_message_after_the_users(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The vector of the message after a forgotten one carried the forgotten words; `mnemo
    memory forget` embeds it again with the turn before it as the store now holds it."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MNEMO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MNEMO_EMBEDDING_MODEL", "local")
    workspace, channel = "T1", "C-general"
    audience = Audience(workspace, AudienceKind.PUBLIC, channel)
    said = [
        message("the weather is mild today", audience, author="carol"),
        message("my secret words are wuzzlefrump glimmerdax", audience, author="alice"),
        message("sounds lovely to me", audience, author="bob"),
    ]
    embedder = LocalEmbedder()
    store = await open_store(mongodb_uri=None, data_dir=tmp_path / "data")
    try:
        search = HybridSearch(store, embedder, clock=utcnow)
        for one in said:
            await store.messages.append([one])
            await search.index_messages([one])
    finally:
        await store.close()

    assert (
        await mnemo("memory", "forget", "--workspace", workspace, "--user", "alice", "--yes") == 0
    )

    store = await open_store(mongodb_uri=None, data_dir=tmp_path / "data")
    try:
        search = HybridSearch(store, embedder, clock=utcnow)
        bob = said[2]
        expected = (await search.message_embeddings([bob]))[0][1]
        hits = await store.messages.search_vector(
            visible_to(audience, channel=channel), list(expected), 10
        )
        assert next(hit.score for hit in hits if hit.record.id == bob.id) == pytest.approx(1.0)
    finally:
        await store.close()


async def test_forget_from_the_terminal_forgets_slack_assistant_threads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the Slack app keeps about a person's assistant threads goes with them even when
    the forget runs in a terminal, with no Slack app running."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MNEMO_DATA_DIR", str(tmp_path / "data"))
    theirs = {"workspace": "slack:T1", "user": "UANN", "channel": "C-viewed"}
    others = {"workspace": "slack:T1", "user": "UBOB", "channel": "C-viewed"}
    store = await open_store(mongodb_uri=None, data_dir=tmp_path / "data")
    try:
        await store.kv.put("slack_assistant", "context:D-ann:1.0", theirs)
        await store.kv.put("slack_assistant", "titled:D-ann:1.0", {"at": "2026-12-01"})
        await store.kv.put("slack_assistant", "context:D-bob:2.0", others)
    finally:
        await store.close()

    forget = ("memory", "forget", "--workspace", "slack:T1", "--user", "UANN", "--yes")
    assert await mnemo(*forget) == 0

    store = await open_store(mongodb_uri=None, data_dir=tmp_path / "data")
    try:
        kept = [key for key, _ in await store.kv.list("slack_assistant")]
    finally:
        await store.close()
    assert kept == ["context:D-bob:2.0"]
