"""How a chunk is cited: its document, section and page, in words the agent can quote."""

from __future__ import annotations

from collections.abc import Sequence

from engine.store.sources import SourceChunk, SourceStore


def cite_chunk(chunk: SourceChunk) -> str:
    """``handbook.md, section "Leave > Parental", page 3`` (each part only when known)."""
    parts = [chunk.document_name]
    if chunk.section:
        parts.append(f'section "{chunk.section}"')
    if chunk.page:
        parts.append(f"page {chunk.page}")
    return ", ".join(parts)


async def chunk_citations(store: SourceStore, passage_ids: Sequence[str]) -> dict[str, str]:
    """The citation of each passage that is a chunk of a document."""
    if not passage_ids:
        return {}
    return {chunk.id: cite_chunk(chunk) for chunk in await store.chunks(passage_ids)}
