"""What the newer features keep about a person is in their export and goes with their forget,
on both stores: documents they shared in chat, passages kept with "Remember this", their ratings
of replies, the tool calls they asked to have approved, and what the Slack app keeps about
their assistant threads; and the report counts each."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from adapters.slack.assistant import NAMESPACE, KeyValueThreadContexts
from engine import SourceTarget
from engine.audience import Scope
from engine.ports import PlatformMessage
from engine.records import Agent, Role
from engine.store.feedback import Feedback, Rating
from engine.store.protocol import Store
from engine.store.sqlite import SQLiteStore
from engine.user_data import UserDataService, render_forget
from engine.user_edits import UserEdits
from tests.contract.conftest import backend, store
from tests.contract.records import AGENT, BASE_TIME, PUBLIC, WS, visible_to
from tests.contract.test_approvals import request
from tests.contract.test_feedback import rating
from tests.contract.test_sources_library import handbook, library
from tests.fakes.openai_server import tool_call
from tests.fakes.slack_world import TEAM, TURN_S, SlackWorld
from tests.integration.test_jobs_consolidation import block_text, consolidation
from tests.integration.test_jobs_consolidation import world as jobs_world
from tests.integration.test_jobs_world import WORKSPACE as JOBS_WORKSPACE
from tests.integration.test_jobs_world import World, public
from tests.integration.test_slack_assistant import THREAD, thread_started
from tests.integration.test_slack_assistant import world as assistant_world

__all__ = ["assistant_world", "backend", "jobs_world", "store"]


@pytest.fixture
def handbook_file(tmp_path: Path) -> Path:
    path = tmp_path / "handbook.md"
    path.write_text(handbook("Alice's team gets forty days of leave."))
    return path


async def test_the_export_shows_the_documents_they_shared_and_those_of_their_dms(
    store: Store, handbook_file: Path
) -> None:
    await store.agents.put(Agent(AGENT, "Ada", "m", "", ()))
    await library(store).add_file(
        SourceTarget(AGENT, WS, Scope.workspace(), "alice"), handbook_file
    )
    await library(store).add_file(SourceTarget(AGENT, WS, Scope.dm("alice")), handbook_file)
    await library(store).add_file(
        SourceTarget(AGENT, WS, Scope.private("G-1"), "bob"), handbook_file
    )

    exported = json.loads(await UserDataService(store).export_user(WS, "alice"))

    documents = exported["documents"]
    described = {(d["visible_to"], d["shared_by_you"]) for d in documents}
    assert described == {
        (Scope.dm("alice").visibility, False),
        (Scope.workspace().visibility, True),
    }
    for document in documents:
        assert any("forty days" in section["text"] for section in document["sections"])
    bobs = json.loads(await UserDataService(store).export_user(WS, "bob"))["documents"]
    assert [d["visible_to"] for d in bobs] == [Scope.private("G-1").visibility]


async def test_their_ratings_and_tool_requests_are_exported_and_counted_when_forgotten(
    store: Store, handbook_file: Path
) -> None:
    await library(store).add_file(
        SourceTarget(AGENT, WS, Scope.workspace(), "alice"), handbook_file
    )
    await store.feedback.put(rating("reply-1", "alice", Rating.GOOD))
    await store.feedback.put(rating("reply-1", "bob", Rating.BAD))
    await store.approvals.put(request("ap-1"))
    exported = json.loads(await UserDataService(store).export_user(WS, "alice"))
    assert [(r["tool"], r["status"]) for r in exported["tool_requests"]] == [
        ("tickets__close", "pending")
    ]
    assert len(exported["ratings"]) == 1

    report = await UserDataService(store).forget_user(WS, "alice")

    assert (report.documents, report.ratings, report.approvals) == (1, 1, 1)
    said = render_forget(report)
    assert "1 document" in said
    assert "1 rating of my replies" in said
    assert "1 tool request" in said
    assert [f.user for f in await store.feedback.for_turns(["turn-1"])] == ["bob"]


async def test_a_message_someone_else_asked_to_remember_goes_with_its_author(store: Store) -> None:
    """Bob keeps Alice's message with "Remember this"; the message was never in recall."""
    await store.agents.put(Agent(AGENT, "Ada", "m", "", ()))
    said = PlatformMessage(
        WS, PUBLIC.channel, "1700.1", "alice", "Alice", "my badge is quokkabeam", BASE_TIME
    )
    assert await UserEdits(store).remember_message(AGENT, PUBLIC, said, asked_by="bob")
    exported = json.loads(await UserDataService(store).export_user(WS, "alice"))
    assert any("quokkabeam" in p["text"] for p in exported["archival"])

    report = await UserDataService(store).forget_user(WS, "alice")

    assert report.passages == 1
    kept = await store.passages.list(visible_to(PUBLIC), limit=10)
    assert not [p for p in kept if "quokkabeam" in p.text]


async def test_forgetting_a_user_forgets_their_slack_assistant_threads(
    assistant_world: SlackWorld,
) -> None:
    """The channel a person viewed while using the assistant is kept with their thread; their
    forget removes it, and another person's thread stays."""
    world = assistant_world
    for user in ("UANN", "UBEN"):
        await world.send(thread_started(user=user, viewing="GSECRET"))
    prompted = "assistant.threads.setSuggestedPrompts"
    await world.api.wait_until(lambda: len(world.api.calls_of(prompted)) == 2, within=TURN_S)
    kv = world.runtime.store.kv
    assert len(await kv.list(NAMESPACE)) == 4

    report = await world.runtime.user_data.forget_user(f"slack:{TEAM}", "UANN")

    assert report.platform_records == 2
    assert "2 assistant thread records" in render_forget(report)
    assert sorted(key.split(":")[1] for key, _ in await kv.list(NAMESPACE)) == ["DUBEN", "DUBEN"]
    contexts = KeyValueThreadContexts(kv)
    assert await contexts.find(channel_id="DUANN", thread_ts=THREAD) is None
    assert await contexts.find(channel_id="DUBEN", thread_ts=THREAD) is not None


async def test_what_consolidation_learned_from_a_persons_rating_goes_with_them(
    jobs_world: World,
) -> None:
    """Bob rated a reply in a conversation where he said nothing; what the memory pass wrote
    from reading his rating is his, and goes when he is forgotten."""
    world = jobs_world
    design = public("design")
    await world.said(design, "alice", "How long is a sprint here?", turn="turn-a")
    await world.said(design, "alice", "Sprints are two weeks.", role=Role.ASSISTANT, turn="turn-a")
    await world.store.feedback.put(
        Feedback("r-1", "bob", Rating.BAD, world.agent.id, JOBS_WORKSPACE, "design", "turn-a")
    )
    world.llm.push(
        tool_call("core_memory_append", label="channel", content="Bob wants longer sprints."),
        tool_call("finish_memory_pass"),
    )
    await world.runner().run_job(consolidation(world))
    assert "longer" in await block_text(world, design, "channel", "alice")

    report = await UserDataService(world.store).forget_user(JOBS_WORKSPACE, "bob")

    assert report.block_lines == 1
    assert "longer" not in await block_text(world, design, "channel", "alice")


async def test_an_older_sqlite_file_gains_the_sharers_of_its_documents(tmp_path: Path) -> None:
    """A file written before documents recorded who shared them opens with none recorded."""
    path = tmp_path / "old.sqlite3"
    columns = (
        "id TEXT PRIMARY KEY, agent_id TEXT, workspace TEXT, scope TEXT, name TEXT, "
        "origin TEXT, kind TEXT, title TEXT, content_hash TEXT, size INTEGER, chunks INTEGER, "
        "added_at INTEGER, updated_at INTEGER"
    )
    with sqlite3.connect(path) as conn:
        conn.execute(f"CREATE TABLE source_documents ({columns})")
        conn.execute(
            "INSERT INTO source_documents VALUES "
            "('d-1', 'a', 'T1', 'workspace', 'h.md', '/h.md', 'markdown', 'H', 'x', 1, 1, 0, 0)"
        )
    conn.close()
    store = SQLiteStore(path)
    await store.setup()
    try:
        found = await store.sources.document("d-1")
        assert found is not None
        assert found.shared_by == ()
        await store.sources.put_document(replace(found, shared_by=("alice",)))
        assert [d.id for d in await store.sources.shared_by("T1", "alice")] == ["d-1"]
    finally:
        await store.close()
