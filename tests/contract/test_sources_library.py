"""Teaching an agent from files, on both stores: adding is idempotent, a changed file replaces
exactly its changed chunks, an interrupted add resumes without duplicates, and removing a
document forgets its chunks and everything derived from them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from engine import IngestStatus, SourceLibrary, SourceLimits, SourceTarget
from engine.audience import Scope
from engine.embeddings import EmbeddingError, Vectors
from engine.records import Passage
from engine.store.lineage import Derived, links
from engine.store.protocol import Store
from engine.store.sources import SourceDocument
from engine.user_data import UserDataService
from tests.contract.records import AGENT, DM_ALICE, PRIVATE, PUBLIC, WS, visible_to
from tests.fakes.embedder import HashEmbedder

TARGET = SourceTarget(AGENT, WS, Scope.workspace())


def handbook(leave: str = "Everyone gets thirty days of paid leave a year.") -> str:
    sections = [
        "# Handbook",
        "Welcome to the team handbook.",
        "## Leave",
        leave,
        "## Expenses",
        "Expenses are paid back within two weeks of the receipt.",
        "## Travel",
        "Book trains for trips under four hours.",
    ]
    return "\n\n".join(sections) + "\n"


def rewrite(path: Path, text: str) -> None:
    """Someone edits the file between two adds."""
    path.write_text(text)


class FailingEmbedder(HashEmbedder):
    """Embeds ``batches`` batches, then fails as an endpoint going down would."""

    def __init__(self, batches: int) -> None:
        super().__init__()
        self.left = batches

    async def embed(self, texts: Sequence[str]) -> Vectors:
        if self.left == 0:
            raise EmbeddingError("the embeddings endpoint stopped answering")
        self.left -= 1
        return await super().embed(texts)


def library(store: Store, embedder: HashEmbedder | None = None, batch: int = 256) -> SourceLibrary:
    limits = SourceLimits(chunk_tokens=40, batch=batch)
    return SourceLibrary(store, embedder or HashEmbedder(), limits=limits)


async def chunk_passages(store: Store) -> list[Passage]:
    return await store.passages.list(visible_to(PUBLIC, tags=("source",)), limit=1000)


@pytest.fixture
def handbook_file(tmp_path: Path) -> Path:
    path = tmp_path / "handbook.md"
    path.write_text(handbook())
    return path


async def test_a_file_becomes_cited_chunks_and_adding_it_again_does_nothing(
    store: Store, handbook_file: Path
) -> None:
    first = await library(store).add_file(TARGET, handbook_file)
    assert (first.status, first.chunks, first.written) == (IngestStatus.ADDED, 4, 4)
    stored = await chunk_passages(store)
    assert len(stored) == 4
    assert {p.tags for p in stored} == {("source", "source:handbook.md")}
    places = {c.section: c for c in await store.sources.chunks_of(first.document_id)}
    assert set(places) == {
        "Handbook",
        "Handbook > Leave",
        "Handbook > Expenses",
        "Handbook > Travel",
    }
    document = await store.sources.document(first.document_id)
    assert document is not None
    assert (document.name, document.title, document.kind, document.chunks) == (
        "handbook.md",
        "Handbook",
        "markdown",
        4,
    )

    again = await library(store).add_file(TARGET, handbook_file)
    assert (again.status, again.written, again.removed) == (IngestStatus.UNCHANGED, 0, 0)
    assert sorted(p.id for p in await chunk_passages(store)) == sorted(p.id for p in stored)


async def test_a_changed_file_replaces_exactly_its_changed_chunks(
    store: Store, handbook_file: Path
) -> None:
    first = await library(store).add_file(TARGET, handbook_file)
    before = {p.id: p.text for p in await chunk_passages(store)}
    rewrite(handbook_file, handbook(leave="Everyone gets thirty-five days of paid leave."))

    changed = await library(store).add_file(TARGET, handbook_file)
    assert (changed.status, changed.chunks, changed.written, changed.removed) == (
        IngestStatus.UPDATED,
        4,
        1,
        1,
    )
    after = {p.id: p.text for p in await chunk_passages(store)}
    assert len(after) == 4
    assert len(after.keys() & before.keys()) == 3
    (new_id,) = after.keys() - before.keys()
    assert after[new_id] == "Everyone gets thirty-five days of paid leave."
    places = await store.sources.chunks_of(first.document_id)
    assert sorted(c.id for c in places) == sorted(after)
    document = await store.sources.document(first.document_id)
    assert document is not None
    assert document.added_at < document.updated_at or document.added_at == document.updated_at


async def test_an_add_stopped_by_a_failing_embedder_resumes_without_duplicates(
    store: Store, handbook_file: Path
) -> None:
    stopped = await library(store, FailingEmbedder(batches=2), batch=1).add_file(
        TARGET, handbook_file
    )
    assert stopped.status is IngestStatus.FAILED
    assert "stopped part-way" in stopped.error
    assert "add it again to finish" in stopped.error
    assert len(await chunk_passages(store)) == 2
    assert await store.sources.documents(AGENT, WS) == []

    resumed = await library(store).add_file(TARGET, handbook_file)
    assert (resumed.status, resumed.chunks, resumed.written) == (IngestStatus.ADDED, 4, 2)
    stored = await chunk_passages(store)
    assert len(stored) == len({p.text for p in stored}) == 4
    assert len(await store.sources.chunks_of(resumed.document_id)) == 4


async def test_a_chunk_stored_without_its_place_is_still_replaced_when_the_file_changes(
    store: Store, handbook_file: Path
) -> None:
    """A run stopped between a chunk's passage and its place leaves a linked passage only."""
    first = await library(store).add_file(TARGET, handbook_file)
    places = await store.sources.chunks_of(first.document_id)
    leave = next(c for c in places if c.section.endswith("Leave"))
    await store.sources.delete_chunks([leave.id])
    await store.sources.put_document(
        await _with_hash(store, first.document_id, "an interrupted run's hash")
    )
    rewrite(handbook_file, handbook(leave="Leave is now unlimited."))

    changed = await library(store).add_file(TARGET, handbook_file)
    assert changed.removed == 1
    texts = sorted(p.text for p in await chunk_passages(store))
    assert "Leave is now unlimited." in texts
    assert not any("thirty days" in text for text in texts)
    assert len(texts) == 4


async def _with_hash(store: Store, document_id: str, digest: str) -> SourceDocument:
    document = await store.sources.document(document_id)
    assert document is not None
    return replace(document, content_hash=digest)


async def test_removing_a_document_forgets_its_chunks_and_what_was_derived_from_them(
    store: Store, handbook_file: Path
) -> None:
    added = await library(store).add_file(TARGET, handbook_file)
    chunk = next(
        c for c in await store.sources.chunks_of(added.document_id) if "Leave" in c.section
    )
    # What a turn that read the chunk wrote: linked to the chunk and, flattened, its document.
    derived = Passage("note-1", AGENT, WS, Scope.workspace(), "Leave is thirty days.")
    kept = Passage("note-2", AGENT, WS, Scope.workspace(), "The office opens at nine.")
    await store.passages.insert([derived, kept])
    await store.lineage.link(links(Derived.PASSAGE, "note-1", [chunk.id, added.document_id], WS))

    documents = await store.sources.documents(AGENT, WS)
    report = await library(store).remove(documents[0])
    assert report.passages == 5
    assert await chunk_passages(store) == []
    assert await store.passages.get("note-1") is None
    assert await store.passages.get("note-2") == kept
    assert await store.sources.documents(AGENT, WS) == []
    assert await store.sources.chunks_of(added.document_id) == []
    assert await store.lineage.derived_from([added.document_id, chunk.id]) == []


async def test_a_document_under_a_private_audience_stays_in_that_channel(
    store: Store, handbook_file: Path
) -> None:
    secret = SourceTarget(AGENT, WS, Scope.private("G-secret"))
    await library(store).add_file(secret, handbook_file)
    assert await chunk_passages(store) == []
    assert await store.passages.count(visible_to(PUBLIC)) == 0
    assert await store.passages.count(visible_to(PRIVATE)) == 4


async def test_forgetting_a_user_forgets_the_documents_taught_in_their_dms(
    store: Store, handbook_file: Path
) -> None:
    in_dm = SourceTarget(AGENT, WS, Scope.dm("alice"))
    await library(store).add_file(in_dm, handbook_file)
    await library(store).add_file(TARGET, handbook_file)
    await UserDataService(store).forget_user(WS, "alice")
    (kept,) = await store.sources.documents(AGENT, WS)
    assert kept.scope == Scope.workspace()
    assert await store.passages.count(visible_to(DM_ALICE)) == 4
