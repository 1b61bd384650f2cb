"""Removing documents: one and what was derived from it, or the shares a platform took back.

A document shared in chat records each message that shared it (``SourceDocument.shares``).
When the platform deletes such a message, or the file itself, that share is gone; the document
goes with its last share (its chunks and everything derived from them), and stays while
another message, by the same person or someone else, still shares it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from engine.forgetting import Forgetting, merged
from engine.ports import ForgetReport
from engine.store.lineage import Derived
from engine.store.protocol import Store
from engine.store.sources import DocumentShare, SourceDocument


async def remove_document(store: Store, document: SourceDocument) -> ForgetReport:
    """Remove a document, its chunks and everything derived from them (the caller settles the
    store); the report counts the document and its chunks among the passages."""
    forgetting = Forgetting(store)
    chunks = [chunk.id for chunk in await store.sources.chunks_of(document.id)]
    report = merged(
        await forgetting.forget({Derived.PASSAGE: set(chunks)}),
        await forgetting.remove_derived([document.id]),
    )
    await store.sources.delete_chunks(chunks)
    removed = await store.sources.delete_document(document.id)
    return merged(report, ForgetReport(documents=int(removed)))


async def unshare(
    store: Store, workspace: str, taken_back: Callable[[DocumentShare], bool]
) -> ForgetReport:
    """Drop the shares of ``workspace``'s documents that ``taken_back`` names; a document left
    with none is removed (the caller settles the store)."""
    report = ForgetReport()
    for document in await store.sources.shared_in_chat(workspace):
        shares = [DocumentShare.decode(text) for text in document.shares]
        kept = [share for share in shares if not taken_back(share)]
        if len(kept) == len(shares):
            continue
        if not kept:
            report = merged(report, await remove_document(store, document))
            continue
        still = {share.user for share in kept}
        gone = {share.user for share in shares} - still
        await store.sources.put_document(
            replace(
                document,
                shares=tuple(share.encode() for share in kept),
                shared_by=tuple(user for user in document.shared_by if user not in gone),
            )
        )
    return report


def message_taken_back(channel: str, message_ref: str) -> Callable[[DocumentShare], bool]:
    """The shares made by one message, which the platform deleted."""
    return lambda share: (share.channel, share.message_ref) == (channel, message_ref)


def file_taken_back(file_id: str, channel: str = "") -> Callable[[DocumentShare], bool]:
    """The shares of one platform file: everywhere (deleted), or in ``channel`` (unshared)."""
    return lambda share: share.file_id == file_id and channel in ("", share.channel)
