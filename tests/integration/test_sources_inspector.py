"""The inspector lists the documents an agent was taught and shows where each chunk sits."""

from __future__ import annotations

from pathlib import Path

from engine import Scope, SourceLibrary, SourceTarget
from tests.integration.test_inspector_api import AUTH, Inspector, inspector

__all__ = ["inspector"]


def write_guide(folder: Path) -> Path:
    path = folder / "guide.md"
    path.write_text("# Guide\n\nWelcome.\n\n## Leave\n\nThirty days a year.\n")
    return path


async def test_documents_are_listed_and_shown_with_their_chunks_places(
    inspector: Inspector, tmp_path: Path
) -> None:
    runtime = inspector.bot.runtime
    library = SourceLibrary(runtime.store, runtime.embedder)
    target = SourceTarget(inspector.agent, "test:W1", Scope.private("G-hr"))
    added = await library.add_file(target, write_guide(tmp_path))

    listed = await inspector.get(f"/agents/{inspector.agent}/documents")
    (document,) = listed["documents"]
    assert (document["id"], document["name"], document["title"]) == (
        added.document_id,
        "guide.md",
        "Guide",
    )
    assert (document["scope"], document["chunks"], document["kind"]) == (
        "private:G-hr",
        2,
        "markdown",
    )
    assert (await inspector.get(f"/agents/{inspector.agent}/documents", workspace="T9")) == {
        "documents": []
    }

    shown = await inspector.get(f"/agents/{inspector.agent}/documents/{added.document_id}")
    assert [c["citation"] for c in shown["chunks"]] == [
        'guide.md, section "Guide"',
        'guide.md, section "Guide > Leave"',
    ]
    missing = await inspector.client.get(
        f"/inspector/api/agents/{inspector.agent}/documents/doc_nope", headers=AUTH
    )
    assert missing.status == 404
