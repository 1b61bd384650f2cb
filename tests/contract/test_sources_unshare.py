"""A document shared in chat goes when the platform takes back the last message (or file)
that shared it, with its chunks and what was derived from them; it stays while someone else
still shares it. On both stores, through the engine's handling of a platform deletion."""

from __future__ import annotations

from engine import DocumentShare, Engine, IngestStatus, SourceLibrary, SourceLimits, SourceTarget
from engine.audience import Scope
from engine.records import Author, Inbound, InboundKind, Passage, utcnow
from engine.store.lineage import Derived, links
from engine.store.protocol import Store
from tests.contract.records import AGENT, PUBLIC, WS
from tests.contract.test_sources_library import handbook
from tests.e2e.pipeline_doubles import RecordingRunner
from tests.fakes.embedder import HashEmbedder

ORIGIN = f"{WS}/{PUBLIC.channel}/handbook.md"


def shared(user: str, ref: str, file_id: str = "F1", channel: str = PUBLIC.channel) -> SourceTarget:
    return SourceTarget(
        AGENT, WS, Scope.workspace(), user, DocumentShare(channel, ref, user, file_id)
    )


def library(store: Store) -> SourceLibrary:
    return SourceLibrary(store, HashEmbedder(), limits=SourceLimits(chunk_tokens=40))


async def share(store: Store, target: SourceTarget, origin: str = ORIGIN) -> str:
    result = await library(store).add_bytes(target, "handbook.md", origin, handbook().encode())
    assert result.status in (IngestStatus.ADDED, IngestStatus.UNCHANGED)
    return result.document_id


async def deleted_on_the_platform(store: Store, ref: str) -> None:
    """The platform tells the engine the message ``ref`` was deleted."""
    engine = Engine(store, RecordingRunner())
    await engine.receive(
        Inbound(
            platform="slack",
            agent_id=AGENT,
            audience=PUBLIC,
            thread="",
            author=Author("", ""),
            text="",
            event_id=f"deleted-{ref}",
            message_ref=ref,
            sent_at=utcnow(),
            kind=InboundKind.DELETE,
        )
    )
    await engine.stop()


async def derived_note(store: Store, document_id: str) -> None:
    """What a turn that read one of the document's chunks wrote."""
    [chunk, *_] = await store.sources.chunks_of(document_id)
    await store.passages.insert([Passage("note-1", AGENT, WS, Scope.workspace(), "Leave: 30d.")])
    await store.lineage.link(links(Derived.PASSAGE, "note-1", [chunk.id, document_id], WS))


async def test_deleting_the_only_message_that_shared_a_file_removes_the_document(
    store: Store,
) -> None:
    document_id = await share(store, shared("alice", "M1"))
    await derived_note(store, document_id)

    await deleted_on_the_platform(store, "M1")

    assert await store.sources.document(document_id) is None
    assert await store.sources.chunks_of(document_id) == []
    assert await store.passages.get("note-1") is None
    assert await store.lineage.derived_from([document_id]) == []


async def test_a_document_someone_else_also_shared_stays_until_their_share_goes(
    store: Store,
) -> None:
    document_id = await share(store, shared("alice", "M1"))
    assert await share(store, shared("bob", "M2")) == document_id
    await derived_note(store, document_id)

    await deleted_on_the_platform(store, "M1")

    document = await store.sources.document(document_id)
    assert document is not None
    assert (document.shared_by, document.shares) == (
        ("bob",),
        (DocumentShare(PUBLIC.channel, "M2", "bob", "F1").encode(),),
    )
    assert await store.passages.get("note-1") is not None

    await deleted_on_the_platform(store, "M2")
    assert await store.sources.document(document_id) is None
    assert await store.passages.get("note-1") is None


async def test_a_file_deleted_or_unshared_takes_back_the_documents_it_alone_shared(
    store: Store,
) -> None:
    here = await share(store, shared("alice", "M1"))
    there = await share(store, shared("alice", "M5", channel="C2"), f"{WS}/C2/handbook.md")
    other_file = await share(store, shared("bob", "M7", "F2", "C3"), f"{WS}/C3/handbook.md")

    report = await library(store).unshare_file(WS, "F1", "C2")
    assert report.documents == 1
    assert await store.sources.document(there) is None
    assert await store.sources.document(here) is not None

    assert (await library(store).unshare_file(WS, "F1")).documents == 1
    assert await store.sources.document(here) is None
    assert await store.sources.document(other_file) is not None
