"""From a file's bytes to the chunks it should have, each with a stable id: the same chunk of
the same document gets the same passage id in every run, which makes adding idempotent and
an interrupted run resumable without duplicates."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePath

from engine.audience import Scope
from engine.sources.chunking import Chunk, chunk_blocks
from engine.sources.formats import parse_document
from engine.sources.parsed import SourceError
from engine.store.sources import SourceChunk

#: Every chunk's passage id starts so: nothing else in archival memory does.
CHUNK_PREFIX = "src_"


def document_id(agent_id: str, workspace: str, scope: Scope, origin: str) -> str:
    """One document per agent, workspace, audience and origin (path or platform file)."""
    key = f"{agent_id}\x1f{workspace}\x1f{scope}\x1f{origin}".encode()
    return "doc_" + hashlib.sha256(key).hexdigest()[:32]


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True, slots=True)
class PlannedChunk:
    chunk: Chunk
    place: SourceChunk

    @property
    def id(self) -> str:
        return self.place.id

    @property
    def embedded_text(self) -> str:
        """What is embedded: the section's headings with the text, so a question about a
        section finds its chunks."""
        return f"{self.chunk.section}\n{self.chunk.text}" if self.chunk.section else self.chunk.text


@dataclass(frozen=True, slots=True)
class DocumentPlan:
    title: str
    kind: str
    chunks: tuple[PlannedChunk, ...]


def plan_document(
    doc_id: str, name: str, data: bytes, count: Callable[[str], int], cap: int
) -> DocumentPlan:
    """Parse ``data`` as the file ``name`` and chunk it; a SourceError when it holds no text."""
    parsed = parse_document(name, data)
    seen: Counter[str] = Counter()
    planned: list[PlannedChunk] = []
    for ordinal, chunk in enumerate(chunk_blocks(parsed.blocks, count, cap)):
        digest = chunk.content_hash
        seen[digest] += 1  # a paragraph repeated in one document is two chunks
        key = f"{doc_id}\x1f{digest}\x1f{seen[digest]}".encode()
        chunk_id = CHUNK_PREFIX + hashlib.sha256(key).hexdigest()[:32]
        place = SourceChunk(chunk_id, doc_id, name, ordinal, chunk.section, chunk.page, digest)
        planned.append(PlannedChunk(chunk, place))
    if not planned:
        raise SourceError("has no text to learn from")
    return DocumentPlan(parsed.title, parsed.kind, tuple(planned))


def display_name(origin: str) -> str:
    """The name citations use for a file: its last path part."""
    return PurePath(origin).name or origin
