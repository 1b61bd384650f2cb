"""Knowledge-source documents and complete forgetting, on both stores: a document shared in
chat records who shared it, forgetting any of them removes it with its chunks and what was
built on them, and forgetting one chunk drops its citation so adding the file again restores it.
A tool request goes with the turn that made it when that turn's messages are forgotten."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from engine import IngestStatus, SourceTarget
from engine.audience import Scope
from engine.records import Passage, Role
from engine.store.lineage import Derived, links
from engine.store.protocol import Store
from engine.user_data import UserDataService
from tests.contract.records import (
    AGENT,
    DM_ALICE,
    OTHER_WS,
    PRIVATE,
    PUBLIC,
    WS,
    inbox_item,
    message,
    visible_to,
)
from tests.contract.test_approvals import request
from tests.contract.test_sources_library import chunk_passages, handbook, library
from tests.contract.test_sources_store import document

SHARED_IN_PUBLIC = SourceTarget(AGENT, WS, Scope.workspace(), shared_by="alice")


@pytest.fixture
def handbook_file(tmp_path: Path) -> Path:
    path = tmp_path / "handbook.md"
    path.write_text(handbook())
    return path


async def test_a_document_keeps_who_shared_it_and_is_found_by_each_sharer(store: Store) -> None:
    shared = replace(document("d-1", "handbook.md"), shared_by=("alice", "bob"))
    elsewhere = replace(document("d-2", "other.md", OTHER_WS), shared_by=("alice",))
    await store.sources.put_document(shared)
    await store.sources.put_document(elsewhere)
    await store.sources.put_document(document("d-3", "operator.md"))

    assert await store.sources.document("d-1") == shared
    assert await store.sources.document("d-3") == document("d-3", "operator.md")
    assert [d.id for d in await store.sources.shared_by(WS, "alice")] == ["d-1"]
    assert [d.id for d in await store.sources.shared_by(WS, "bob")] == ["d-1"]
    assert await store.sources.shared_by(WS, "carol") == []


async def test_every_person_who_shares_a_document_is_recorded(
    store: Store, handbook_file: Path
) -> None:
    first = await library(store).add_file(SHARED_IN_PUBLIC, handbook_file)
    again = await library(store).add_file(replace(SHARED_IN_PUBLIC, shared_by="bob"), handbook_file)
    operator = await library(store).add_file(replace(SHARED_IN_PUBLIC, shared_by=""), handbook_file)

    assert again.status is operator.status is IngestStatus.UNCHANGED
    found = await store.sources.document(first.document_id)
    assert found is not None
    assert found.shared_by == ("alice", "bob")


async def test_forgetting_a_sharer_removes_the_channel_document_and_what_was_built_on_it(
    store: Store, handbook_file: Path
) -> None:
    added = await library(store).add_file(SHARED_IN_PUBLIC, handbook_file)
    taught = SourceTarget(AGENT, WS, Scope.private("G-secret"))
    kept = await library(store).add_file(taught, handbook_file)
    chunk = (await store.sources.chunks_of(added.document_id))[0]
    note = Passage("note-1", AGENT, WS, Scope.workspace(), "The handbook welcomes the team.")
    await store.passages.insert([note])
    await store.lineage.link(links(Derived.PASSAGE, "note-1", [chunk.id, added.document_id], WS))

    report = await UserDataService(store).forget_user(WS, "alice")

    assert report.documents == 1
    assert report.passages >= added.chunks + 1
    assert await store.sources.document(added.document_id) is None
    assert await store.sources.chunks_of(added.document_id) == []
    assert await chunk_passages(store) == []
    assert await store.passages.get("note-1") is None
    assert await store.lineage.derived_from([added.document_id, chunk.id]) == []
    # The operator's copy in a private channel was not theirs: it stays.
    assert await store.sources.document(kept.document_id) is not None
    assert await store.passages.count(visible_to(PRIVATE)) == kept.chunks


async def test_forgetting_one_chunk_drops_its_citation_and_adding_the_file_restores_it(
    store: Store, handbook_file: Path
) -> None:
    added = await library(store).add_file(SHARED_IN_PUBLIC, handbook_file)
    chunk = next(c for c in await store.sources.chunks_of(added.document_id) if c.section)

    report = await UserDataService(store).forget_memory(WS, Derived.PASSAGE, chunk.id)

    assert report.passages == 1
    assert await store.passages.get(chunk.id) is None
    assert await store.sources.chunks([chunk.id]) == []
    again = await library(store).add_file(SHARED_IN_PUBLIC, handbook_file)
    assert (again.status, again.written, again.chunks) == (IngestStatus.UPDATED, 1, added.chunks)
    assert await store.passages.get(chunk.id) is not None
    assert [c.id for c in await store.sources.chunks([chunk.id])] == [chunk.id]
    assert len(await store.passages.list(visible_to(PUBLIC), limit=100)) == added.chunks


async def test_requests_are_forgotten_by_the_turn_that_made_them(store: Store) -> None:
    made = replace(request("ap-1"), source="turn-1")
    other = replace(request("ap-2"), source="turn-2")
    await store.approvals.put(made)
    await store.approvals.put(other)

    assert await store.approvals.delete_sources(["turn-1", "turn-9"]) == 1
    assert await store.approvals.get("ap-1") is None
    assert await store.approvals.get("ap-2") == other
    assert await store.approvals.delete_sources([]) == 0


async def test_a_tool_request_quoting_a_forgotten_person_goes_with_them(store: Store) -> None:
    """Bob's turn asked for a call whose arguments copy Alice's words: the turn's message
    carrying the call is derived from her message, so the request goes when she is forgotten."""
    alices = message("my ticket number is 4417", PUBLIC)
    await store.messages.append([alices])
    call = replace(
        message("closing 4417", PUBLIC, author=AGENT, role=Role.ASSISTANT), turn_id="turn-bob"
    )
    await store.messages.append([call])
    await store.lineage.link(links(Derived.MESSAGE, call.id, [alices.id], WS))
    asked = replace(request("ap-bob"), requester="bob", source="turn-bob")
    await store.approvals.put(asked)

    report = await UserDataService(store).forget_user(WS, "alice")

    assert report.redacted_messages == 1
    assert report.approvals == 1
    assert await store.approvals.get("ap-bob") is None


async def test_a_persons_requests_are_listed_as_forget_would_remove_them(store: Store) -> None:
    theirs = request("ap-1")
    in_their_dm = replace(
        request("ap-2"), requester="carol", inbound=inbox_item("ev-2", audience=DM_ALICE).inbound
    )
    for made in (theirs, in_their_dm, replace(request("ap-3"), requester="carol")):
        await store.approvals.put(made)
    assert [r.id for r in await store.approvals.of_user(WS, "alice")] == ["ap-1", "ap-2"]
    assert await store.approvals.of_user(OTHER_WS, "alice") == []
