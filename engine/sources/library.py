"""Teaching an agent from files: each document's chunks become archival passages under the
audience given, linked to the document by lineage, and recorded with their place (section,
page) for citations.

Adding is idempotent and resumable. An unchanged file (same content hash) is not parsed. A
changed one keeps the chunks it still has (their ids come from their content), writes the new
ones and forgets the ones gone, with what was derived from them. Each batch of new chunks is
written links first, then passages, then places, and the document record last: a run that
stops part-way is finished by adding the file again, and no chunk is ever stored twice.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from engine.audience import Scope
from engine.embeddings import Embedder, EmbeddingError, Vectors
from engine.forgetting import Forgetting
from engine.ports import ForgetReport
from engine.records import Passage, utcnow
from engine.sources.parsed import SourceError
from engine.sources.plan import (
    CHUNK_PREFIX,
    DocumentPlan,
    PlannedChunk,
    content_hash,
    display_name,
    document_id,
    plan_document,
)
from engine.sources.removal import (
    file_taken_back,
    message_taken_back,
    remove_document,
    unshare,
)
from engine.sources.tags import SOURCE_TAG, source_tag
from engine.store.lineage import Derived, batches, links
from engine.store.protocol import Store
from engine.store.sources import DocumentShare, SourceDocument
from engine.tokens import TokenCounter


@dataclass(frozen=True, slots=True)
class SourceLimits:
    #: Larger files are refused before they are read.
    max_bytes: int = 25 * 1024 * 1024
    #: The most tokens one chunk holds.
    chunk_tokens: int = 350
    #: Chunks embedded and written together.
    batch: int = 256


@dataclass(frozen=True, slots=True)
class SourceTarget:
    """Whose archival memory a document goes to, and which audience may read it."""

    agent_id: str
    workspace: str
    scope: Scope
    #: Who shared the file in chat (a platform user id); "" for an operator's file.
    shared_by: str = ""
    #: The chat message that shared it, when one did.
    share: DocumentShare | None = None


class IngestStatus(StrEnum):
    ADDED = "added"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class IngestResult:
    """What adding one file did."""

    name: str
    status: IngestStatus
    #: Chunks the document has now.
    chunks: int = 0
    #: Chunks written by this run, and chunks removed (with what was derived from them).
    written: int = 0
    removed: int = 0
    #: Why it failed, in one sentence about the file ("is an encrypted PDF; ...").
    error: str = ""
    document_id: str = ""


class IngestProgress(Protocol):
    """Told as work advances, so a terminal can show a progress bar."""

    def chunks_done(self, count: int) -> None: ...


class _Quiet:
    def chunks_done(self, count: int) -> None:
        pass


class SourceLibrary:
    """Adds, lists and removes an agent's knowledge sources on one store."""

    def __init__(
        self,
        store: Store,
        embedder: Embedder,
        *,
        counter: TokenCounter | None = None,
        limits: SourceLimits = SourceLimits(),
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._store = store
        self._embedder = embedder
        self._counter = counter or TokenCounter("gpt-4o", cache_size=4096)
        self.limits = limits
        self._clock = clock

    async def add_file(
        self, target: SourceTarget, path: Path, progress: IngestProgress | None = None
    ) -> IngestResult:
        """Add (or refresh) the file at ``path``; a failure is a result, never a raise."""
        name = display_name(str(path))
        try:
            origin, data = await asyncio.to_thread(self._read, path)
        except SourceError as exc:
            return IngestResult(name, IngestStatus.FAILED, error=str(exc))
        return await self.add_bytes(target, name, origin, data, progress)

    async def add_bytes(
        self,
        target: SourceTarget,
        name: str,
        origin: str,
        data: bytes,
        progress: IngestProgress | None = None,
    ) -> IngestResult:
        """Add the document ``name`` read from ``origin`` (a path, or a platform's file)."""
        try:
            return await self._add(target, name, origin, data, progress or _Quiet())
        except SourceError as exc:
            return IngestResult(name, IngestStatus.FAILED, error=str(exc))
        except EmbeddingError as exc:
            return IngestResult(
                name,
                IngestStatus.FAILED,
                error=f"stopped part-way, embedding failed ({exc}); add it again to finish "
                "(what is stored is kept, nothing is stored twice)",
            )

    def _read(self, path: Path) -> tuple[str, bytes]:
        """The file's absolute path (its origin) and bytes, once it passes the checks."""
        if not path.exists():
            raise SourceError("does not exist")
        if not path.is_file():
            raise SourceError("is not a file")
        size = path.stat().st_size
        if size > self.limits.max_bytes:
            raise SourceError(
                f"is {size / 2**20:.1f} MiB, over the {self.limits.max_bytes / 2**20:.0f} MiB "
                "limit; split it into smaller files"
            )
        try:
            return str(path.resolve()), path.read_bytes()
        except OSError as exc:
            raise SourceError(f"cannot be read ({exc.strerror or exc})") from None

    async def _add(
        self, target: SourceTarget, name: str, origin: str, data: bytes, progress: IngestProgress
    ) -> IngestResult:
        if len(data) > self.limits.max_bytes:
            raise SourceError(f"is over the {self.limits.max_bytes / 2**20:.0f} MiB limit")
        doc_id = document_id(target.agent_id, target.workspace, target.scope, origin)
        digest = content_hash(data)
        existing = await self._store.sources.document(doc_id)
        sharers = _sharers(existing, target.shared_by)
        shares = _shares(existing, target.share)
        if existing is not None and existing.content_hash == digest:
            if (sharers, shares) != (existing.shared_by, existing.shares):
                shared = replace(existing, shared_by=sharers, shares=shares)
                await self._store.sources.put_document(shared)
            progress.chunks_done(existing.chunks)
            return IngestResult(name, IngestStatus.UNCHANGED, existing.chunks, document_id=doc_id)
        plan = await asyncio.to_thread(
            plan_document, doc_id, name, data, self._counter.count, self.limits.chunk_tokens
        )
        written, removed = await self._write(target, doc_id, plan, progress)
        now = self._clock()
        await self._store.sources.put_document(
            SourceDocument(
                id=doc_id,
                agent_id=target.agent_id,
                workspace=target.workspace,
                scope=target.scope,
                name=name,
                origin=origin,
                kind=plan.kind,
                title=plan.title,
                content_hash=digest,
                size=len(data),
                chunks=len(plan.chunks),
                added_at=existing.added_at if existing else now,
                updated_at=now,
                shared_by=sharers,
                shares=shares,
            )
        )
        status = IngestStatus.ADDED if existing is None else IngestStatus.UPDATED
        return IngestResult(name, status, len(plan.chunks), written, removed, document_id=doc_id)

    async def _write(
        self, target: SourceTarget, doc_id: str, plan: DocumentPlan, progress: IngestProgress
    ) -> tuple[int, int]:
        """Write the chunks the store lacks, move the ones kept, forget the ones gone;
        returns how many were written and removed."""
        sources = self._store.sources
        placed = {chunk.id: chunk for chunk in await sources.chunks_of(doc_id)}
        # Passages linked to the document whose place was never written (a run stopped
        # between the two) are this document's chunks too.
        linked = {
            record.record_id
            for record in await self._store.lineage.derived_from([doc_id])
            if record.kind is Derived.PASSAGE and record.record_id.startswith(CHUNK_PREFIX)
        }
        wanted = {planned.id for planned in plan.chunks}
        fresh = [planned for planned in plan.chunks if planned.id not in placed]
        progress.chunks_done(len(plan.chunks) - len(fresh))
        async with contextlib.aclosing(self._embedded(fresh)) as embedded:
            async for batch, vectors in embedded:
                await self._write_batch(target, doc_id, batch, vectors)
                progress.chunks_done(len(batch))
        moved = [
            planned.place
            for planned in plan.chunks
            if planned.id in placed and placed[planned.id] != planned.place
        ]
        await sources.put_chunks(moved)
        gone = sorted((placed.keys() | linked) - wanted)
        if gone:
            await Forgetting(self._store).forget({Derived.PASSAGE: set(gone)})
            await sources.delete_chunks(gone)
        return len(fresh), len(gone)

    async def _embedded(
        self, chunks: Sequence[PlannedChunk]
    ) -> AsyncGenerator[tuple[Sequence[PlannedChunk], Vectors]]:
        """``chunks`` in batches with their vectors; the next batch is embedded while the
        caller writes this one (the model and the store work in threads of their own)."""
        todo = list(batches(chunks, self.limits.batch))
        if not todo:
            return
        embed = self._embedder.embed
        pending = asyncio.ensure_future(embed([c.embedded_text for c in todo[0]]))
        try:
            for index, batch in enumerate(todo):
                vectors = await pending
                if index + 1 < len(todo):
                    texts = [c.embedded_text for c in todo[index + 1]]
                    pending = asyncio.ensure_future(embed(texts))
                yield batch, vectors
        finally:
            if not pending.done():
                pending.cancel()
                with contextlib.suppress(asyncio.CancelledError, EmbeddingError):
                    await pending

    async def _write_batch(
        self, target: SourceTarget, doc_id: str, batch: Sequence[PlannedChunk], vectors: Vectors
    ) -> None:
        now = self._clock()
        tags = (SOURCE_TAG, source_tag(batch[0].place.document_name))
        passages = [
            Passage(
                id=planned.id,
                agent_id=target.agent_id,
                workspace=target.workspace,
                scope=target.scope,
                text=planned.chunk.text,
                tags=tags,
                created_at=now,
                embedding=tuple(vector.tolist()),
            )
            for planned, vector in zip(batch, vectors, strict=True)
        ]
        await self._store.lineage.link(
            [
                link
                for planned in batch
                for link in links(Derived.PASSAGE, planned.id, [doc_id], target.workspace)
            ]
        )
        await self._store.passages.insert(passages)
        await self._store.sources.put_chunks([planned.place for planned in batch])

    async def documents(self, agent_id: str, workspace: str | None = None) -> list[SourceDocument]:
        return await self._store.sources.documents(agent_id, workspace)

    async def document(self, document_id: str) -> SourceDocument | None:
        return await self._store.sources.document(document_id)

    async def remove(self, document: SourceDocument) -> ForgetReport:
        """Remove a document: its chunks and everything derived from them go, and nothing of
        it stays in the store's files."""
        report = await remove_document(self._store, document)
        await self._store.settle_forget()
        return report

    async def unshare_file(self, workspace: str, file_id: str, channel: str = "") -> ForgetReport:
        """The platform deleted a file (or unshared it from ``channel``): the documents only
        it shared go."""
        return await self._unshare(workspace, file_taken_back(file_id, channel))

    async def unshare_message(self, workspace: str, channel: str, message_ref: str) -> ForgetReport:
        """The platform deleted a message: the documents it alone shared go (the engine does
        so for what was stored; a learner for a file it was still adding then)."""
        return await self._unshare(workspace, message_taken_back(channel, message_ref))

    async def _unshare(
        self, workspace: str, taken_back: Callable[[DocumentShare], bool]
    ) -> ForgetReport:
        report = await unshare(self._store, workspace, taken_back)
        if report.total:
            await self._store.settle_forget()
        return report

    async def settle(self) -> None:
        """After adds that removed chunks: leave no removed text in the store's files."""
        await self._store.settle_forget()


def _shares(existing: SourceDocument | None, share: DocumentShare | None) -> tuple[str, ...]:
    """The messages that have shared a document, once ``share`` (if any) did too."""
    known = existing.shares if existing is not None else ()
    added = share.encode() if share is not None else ""
    return known if not added or added in known else (*known, added)


def _sharers(existing: SourceDocument | None, sharer: str) -> tuple[str, ...]:
    """Who has shared a document, once ``sharer`` (who may be "") shared it too."""
    known = existing.shared_by if existing is not None else ()
    return known if not sharer or sharer in known else (*known, sharer)
