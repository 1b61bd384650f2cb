"""Knowledge sources: documents and their chunks' places, kept alike on both stores."""

from __future__ import annotations

from dataclasses import replace

from engine.audience import Scope
from engine.store.protocol import Store
from engine.store.sources import SourceChunk, SourceDocument
from tests.contract.records import AGENT, BASE_TIME, OTHER_WS, WS


def document(doc_id: str, name: str, workspace: str = WS) -> SourceDocument:
    return SourceDocument(
        id=doc_id,
        agent_id=AGENT,
        workspace=workspace,
        scope=Scope.workspace(),
        name=name,
        origin=f"/docs/{name}",
        kind="markdown",
        title=name.title(),
        content_hash="h-" + doc_id,
        size=1234,
        chunks=2,
        added_at=BASE_TIME,
        updated_at=BASE_TIME,
    )


def chunk(chunk_id: str, doc_id: str, ordinal: int, page: int = 0) -> SourceChunk:
    return SourceChunk(chunk_id, doc_id, "handbook.md", ordinal, "Leave > Parental", page, "c")


async def test_a_document_round_trips_and_is_replaced_by_id(store: Store) -> None:
    handbook = document("d-1", "handbook.md")
    await store.sources.put_document(handbook)
    assert await store.sources.document("d-1") == handbook
    changed = replace(handbook, content_hash="h-2", chunks=5, scope=Scope.private("G-1"))
    await store.sources.put_document(changed)
    assert await store.sources.document("d-1") == changed
    assert await store.sources.document("absent") is None


async def test_documents_are_listed_by_name_per_agent_and_workspace(store: Store) -> None:
    for doc in (
        document("d-1", "zeta.pdf"),
        document("d-2", "alpha.md"),
        document("d-3", "beta.txt", OTHER_WS),
        replace(document("d-4", "other.md"), agent_id="agent-2"),
    ):
        await store.sources.put_document(doc)
    assert [d.name for d in await store.sources.documents(AGENT, WS)] == ["alpha.md", "zeta.pdf"]
    everywhere = await store.sources.documents(AGENT)
    assert [d.name for d in everywhere] == ["alpha.md", "beta.txt", "zeta.pdf"]
    assert await store.sources.delete_document("d-1")
    assert not await store.sources.delete_document("d-1")
    assert [d.name for d in await store.sources.documents(AGENT, WS)] == ["alpha.md"]


async def test_chunks_are_kept_in_document_order_and_replaced_by_id(store: Store) -> None:
    await store.sources.put_chunks([chunk("p-2", "d-1", 1, page=3), chunk("p-1", "d-1", 0)])
    await store.sources.put_chunks([chunk("p-9", "d-2", 0)])
    assert [c.id for c in await store.sources.chunks_of("d-1")] == ["p-1", "p-2"]
    await store.sources.put_chunks([chunk("p-1", "d-1", 2)])
    listed = await store.sources.chunks_of("d-1")
    assert [(c.id, c.ordinal) for c in listed] == [("p-2", 1), ("p-1", 2)]
    assert listed[0] == chunk("p-2", "d-1", 1, page=3)


async def test_forgetting_a_user_removes_the_documents_taught_in_their_dms(store: Store) -> None:
    theirs = replace(document("d-1", "diary.md"), scope=Scope.dm("alice"))
    elsewhere = replace(document("d-2", "diary.md", OTHER_WS), scope=Scope.dm("alice"))
    bobs = replace(document("d-3", "notes.md"), scope=Scope.dm("bob"))
    for doc in (theirs, elsewhere, bobs, document("d-4", "handbook.md")):
        await store.sources.put_document(doc)
    await store.sources.put_chunks([chunk("p-1", "d-1", 0), chunk("p-3", "d-3", 0)])

    assert await store.sources.delete_user(WS, "alice") == 1
    assert await store.sources.document("d-1") is None
    assert await store.sources.chunks_of("d-1") == []
    assert [c.id for c in await store.sources.chunks_of("d-3")] == ["p-3"]
    remaining = {d.id for d in await store.sources.documents(AGENT)}
    assert remaining == {"d-2", "d-3", "d-4"}
    assert await store.sources.delete_user(WS, "alice") == 0


async def test_chunks_are_found_and_deleted_by_passage_id(store: Store) -> None:
    await store.sources.put_chunks([chunk(f"p-{i}", "d-1", i) for i in range(5)])
    found = await store.sources.chunks(["p-1", "p-3", "not-a-chunk"])
    assert sorted(c.id for c in found) == ["p-1", "p-3"]
    assert await store.sources.delete_chunks(["p-1", "p-3", "absent"]) == 2
    assert [c.id for c in await store.sources.chunks_of("d-1")] == ["p-0", "p-2", "p-4"]
    assert await store.sources.chunks([]) == []
