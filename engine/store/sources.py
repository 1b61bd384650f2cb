"""Knowledge sources: the files an agent was taught, and the chunks each became.

A document's chunks are archival passages (searched like any other, under the document's
audience); the records here say which document and which section or page each passage came
from, so answers can cite them, and which content hashes a document had, so adding a file
again stores only what changed.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from engine.audience import Scope


@dataclass(frozen=True, slots=True)
class SourceDocument:
    """One ingested file. Written after all its chunks, so a crash leaves the old record (or
    none), and adding the file again finishes the work."""

    id: str
    agent_id: str
    workspace: str
    scope: Scope
    #: What citations call it: the file's name.
    name: str
    #: Where it was read from: an absolute path, or a platform's file reference.
    origin: str
    #: The format it was parsed as: markdown, text, pdf or html.
    kind: str
    title: str
    #: SHA-256 of the file's bytes: an unchanged file is not read further.
    content_hash: str
    size: int
    chunks: int
    added_at: datetime
    updated_at: datetime
    #: The people who shared it in chat (platform user ids), first sharer first; empty for a
    #: file an operator added. Forgetting any of them removes the document.
    shared_by: tuple[str, ...] = ()
    #: The chat messages that shared it (``DocumentShare.encode``): when the platform
    #: deletes the last of them, or the file itself, the document goes.
    shares: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DocumentShare:
    """One chat message that shared a document: where, which platform file, by whom."""

    channel: str
    message_ref: str
    user: str
    #: The platform's id of the file ("" when it has none).
    file_id: str = ""

    def encode(self) -> str:
        # Platform ids hold no "/" (Slack ids and timestamps, Discord snowflakes).
        return "/".join((self.channel, self.message_ref, self.file_id, self.user))

    @classmethod
    def decode(cls, text: str) -> DocumentShare:
        channel, message_ref, file_id, user = text.split("/", 3)
        return cls(channel, message_ref, user, file_id)


@dataclass(frozen=True, slots=True)
class SourceChunk:
    """Where one archival passage (``id``) sits in its document."""

    id: str
    document_id: str
    document_name: str
    #: Position in the document, from 0.
    ordinal: int
    #: The heading path ("Leave > Parental leave"), or "" before the first heading.
    section: str
    #: The page it is on (PDF), from 1; 0 when the format has no pages.
    page: int
    #: SHA-256 of the section, page and text: the same hash means the same chunk.
    content_hash: str


class SourceStore(Protocol):
    """Documents and their chunks' places, on both backends."""

    async def put_document(self, document: SourceDocument) -> None:
        """Create the document, or replace the one with its id."""

    async def document(self, document_id: str) -> SourceDocument | None: ...

    async def documents(
        self, agent_id: str, workspace: str | None = None
    ) -> builtins.list[SourceDocument]:
        """An agent's documents (in one workspace, or all), by name."""

    async def delete_document(self, document_id: str) -> bool: ...

    async def put_chunks(self, chunks: Sequence[SourceChunk]) -> None:
        """Record chunks; one whose id is stored replaces it."""

    async def chunks_of(self, document_id: str) -> builtins.list[SourceChunk]:
        """A document's chunks in document order."""

    async def chunks(self, passage_ids: Sequence[str]) -> builtins.list[SourceChunk]:
        """The chunks among these passages (passages of no document are absent)."""

    async def delete_chunks(self, passage_ids: Sequence[str]) -> int: ...

    async def shared_by(self, workspace: str, user: str) -> builtins.list[SourceDocument]:
        """The documents of ``workspace`` that ``user`` shared in chat, in any audience."""

    async def shared_in_chat(self, workspace: str) -> builtins.list[SourceDocument]:
        """The documents of ``workspace`` that chat messages shared (``shares``)."""

    async def delete_user(self, workspace: str, user: str) -> int:
        """``forget``: remove the documents taught in DMs with ``user`` and their chunks'
        places (their passages go with the user's DM passages); returns the documents."""
