"""Complete forgetting: what was derived from forgotten records goes with them.

Every derived record links to the ids it came from (``engine.store.lineage``), roots flattened
in, so following the links from the forgotten ids finds everything built on them. A derived
record with several sources is removed when any one of them is forgotten: nothing tells which
part of it came from whom. Block lines are removed from their block, passages and digests
deleted, the agent's own messages redacted in place (and the replies they were sent as),
summaries dropped to be refolded from what remains, mail deleted. The messages that followed a
forgotten one are embedded again: the forgotten text was the turn before them in their vectors.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace

from engine.ports import ForgetReport
from engine.records import ConversationKey, Message
from engine.search.hybrid import HybridSearch
from engine.store.forget_marks import ForgetMark, MarkKind
from engine.store.lineage import Derived, DerivedRecord, block_line_id
from engine.store.protocol import Store

log = logging.getLogger(__name__)

#: How deep derivations are followed; links are flattened at write time, so one round finds
#: everything written that way, and the rest is for records built on records linked before.
_MAX_ROUNDS = 8


def conversation_of(summary_id: str) -> ConversationKey:
    """The conversation a summary's lineage id (``str(ConversationKey)``) names."""
    agent_id, workspace, channel, thread = summary_id.split("/", 3)
    return ConversationKey(agent_id, workspace, channel, thread)


def block_of(line_id: str) -> str:
    """The block a line's lineage id (``block_line_id``) belongs to."""
    return line_id.rpartition("#")[0]


@dataclass(frozen=True, slots=True)
class Forgetting:
    """Removes what was derived from forgotten ids, on one store."""

    store: Store
    #: Embeds again the messages that followed forgotten ones; without it they keep their vectors.
    search: HybridSearch | None = None

    async def derived(self, sources: Collection[str]) -> dict[Derived, set[str]]:
        """Everything derived, directly or through other derived records, from ``sources``."""
        found: dict[Derived, set[str]] = defaultdict(set)
        seen = set(sources)
        frontier: list[str] = list(seen)
        for _ in range(_MAX_ROUNDS):
            if not frontier:
                break
            records = await self.store.lineage.derived_from(frontier)
            fresh = [r for r in records if r.record_id not in found[r.kind]]
            for record in fresh:
                found[record.kind].add(record.record_id)
            frontier = [r.record_id for r in fresh if r.record_id not in seen]
            seen.update(frontier)
        return found

    async def remove_derived(
        self, sources: Collection[str], gone: Sequence[Message] = ()
    ) -> ForgetReport:
        """Remove everything derived from ``sources`` (not ``sources`` themselves) and the
        links of both; then embed again what followed the messages redacted and those ``gone``
        (already deleted)."""
        report, redacted = await self.remove_derived_later_reindexed(sources)
        await self.reindex_followers([*gone, *redacted])
        return report

    async def remove_derived_later_reindexed(
        self, sources: Collection[str]
    ) -> tuple[ForgetReport, list[Message]]:
        """``remove_derived``, returning the messages it redacted: the caller embeds again
        what followed them once the rest of its forget is done, in one call."""
        found = await self.derived(sources)
        removed = await self.removed(found)
        await self.store.lineage.unlink_sources(list(sources))
        return removed

    async def forget_lost(
        self, messages: Iterable[Message], passage_ids: Collection[str] = ()
    ) -> ForgetReport:
        """Remove what was derived from those of ``messages`` (as they were read) that are
        gone, redacted or edited now, and from those of ``passage_ids`` that are gone.

        A background pass reads records, and only later writes what it derived from them
        (their links first): a forget or an edit in between found no links to follow. Checked
        once the writes are done, a source forgotten before them is caught here, and a forget
        after them finds their links."""
        read = {m.id: m.content for m in messages}
        now = {m.id: m.content for m in await self.store.messages.by_ids(sorted(read))}
        lost = [i for i in sorted(read) if now.get(i) != read[i]]
        for passage_id in sorted(set(passage_ids)):
            if await self.store.passages.get(passage_id) is None:
                lost.append(passage_id)
        if not lost:
            return ForgetReport()
        report = await self.remove_derived(lost)
        await self.store.settle_forget()
        return report

    async def forget(self, records: dict[Derived, set[str]]) -> ForgetReport:
        """Remove these records and everything derived from them."""
        found = await self.derived({i for ids in records.values() for i in ids})
        for kind, ids in records.items():
            found[kind].update(ids)
        report, redacted = await self.removed(found)
        await self.reindex_followers(redacted)
        return report

    async def removed(self, records: dict[Derived, set[str]]) -> tuple[ForgetReport, list[Message]]:
        """Remove these derived records, each the way its kind is forgotten, and their links;
        what was removed, and the messages redacted (as they are now)."""
        store = self.store
        turns = await store.messages.redact(sorted(records.get(Derived.MESSAGE, ())))
        redacted = await self.messages(sorted(turns)) if turns else []
        # The replies those messages were sent as: their turn's outbox entries.
        replies = await store.outbox.redact(sorted(set(turns.values()) - {""}))
        report = ForgetReport(
            redacted_messages=len(turns),
            outbox=replies,
            block_lines=await self.remove_lines(records.get(Derived.BLOCK_LINE, ())),
            passages=await self.remove_passages(sorted(records.get(Derived.PASSAGE, ()))),
            digests=await store.passages.delete(sorted(records.get(Derived.DIGEST, ()))),
            summaries=await self.drop_summaries(records.get(Derived.SUMMARY, ())),
            mail=await store.mail.delete(sorted(records.get(Derived.MAIL, ()))),
            # Tool calls those turns asked to have approved: written from the same reading.
            approvals=await store.approvals.delete_sources(sorted(set(turns.values()) - {""})),
        )
        for kind, ids in records.items():
            if ids:
                await store.lineage.unlink_records(kind, sorted(ids))
                await store.lineage.unlink_sources(sorted(ids))
        return report, redacted

    async def mark(self, mark: ForgetMark) -> None:
        """Before a forget looks for what to remove: have the turns running in its workspace
        forget it again once written (``engine.store.forget_marks``)."""
        await self.store.inbox.mark_forgotten(mark.workspace, mark.encode())

    async def platform_delete(
        self, workspace: str, channel: str, ref: str, *, mark: bool = True
    ) -> ForgetReport:
        """A platform deleted a message: every stored copy goes, and what was derived from it
        (``mark``: and from the copy a running turn is about to store).

        The store is not settled here (see ``SettleSoon``): a platform change arrives on the
        intake path, which must stay fast."""
        if mark:
            await self.mark(ForgetMark(MarkKind.MESSAGE, workspace, channel, ref))
        copies = await self.store.messages.ids_of_ref(workspace, channel, ref)
        gone = await self.messages(copies)
        deleted = await self.store.messages.delete_ref(workspace, channel, ref)
        derived = await self.remove_derived(copies, gone)
        received = await self.received_copies(copies)
        return merged(derived, received, ForgetReport(deleted))

    async def platform_edit(
        self, workspace: str, channel: str, ref: str, text: str
    ) -> tuple[int, ForgetReport]:
        """A platform edited a message: what was derived from its old text goes, the new text
        is stored (and remembered as usual from then on). Returns the copies edited too."""
        copies = await self.store.messages.ids_of_ref(workspace, channel, ref)
        derived = await self.remove_derived(copies)
        received = await self.received_copies(copies)
        edited = await self.store.messages.edit(workspace, channel, ref, text)
        await self.reindex_followers(await self.messages(copies))
        return edited, merged(derived, received)

    async def messages(self, message_ids: Sequence[str]) -> list[Message]:
        """These stored messages, read only when their followers will be embedded again."""
        return await self.store.messages.by_ids(message_ids) if self.search else []

    async def reindex_followers(self, forgotten: Sequence[Message]) -> int:
        """Embed again the messages that followed ``forgotten`` ones, with the turn before each
        as the store holds it now (``HybridSearch.reindex_followers``); how many were."""
        if self.search is None or not forgotten:
            return 0
        return await self.search.reindex_followers(forgotten)

    async def received_copies(self, message_ids: Sequence[str]) -> ForgetReport:
        """Blank the pipeline's copies of these messages (a user message has its inbox item's
        id) and the replies sent to them."""
        items = await self.store.inbox.redact(message_ids)
        return ForgetReport(inbox=len(items), outbox=await self.store.outbox.redact(items))

    async def remove_passages(self, passage_ids: Sequence[str]) -> int:
        """Delete these passages. A chunk of a document loses its citation record too, and its
        document is marked changed, so adding the file again brings the passage back rather
        than keeping a place for text that is gone."""
        removed = await self.store.passages.delete(passage_ids)
        sources = self.store.sources
        chunks = await sources.chunks(passage_ids) if passage_ids else []
        if not chunks:
            return removed
        await sources.delete_chunks([chunk.id for chunk in chunks])
        for document_id, lost in sorted(Counter(c.document_id for c in chunks).items()):
            if (document := await sources.document(document_id)) is not None:
                left = max(0, document.chunks - lost)
                await sources.put_document(replace(document, content_hash="", chunks=left))
        return removed

    async def remove_lines(self, line_ids: Iterable[str]) -> int:
        """Remove these lines from their blocks (compare-and-set, retried); how many went."""
        by_block: dict[str, set[str]] = defaultdict(set)
        for line_id in line_ids:
            by_block[block_of(line_id)].add(line_id)
        removed = 0
        for block_id, doomed in sorted(by_block.items()):
            while (block := await self.store.blocks.get(block_id)) is not None:
                lines = block.value.split("\n")
                kept = [line for line in lines if block_line_id(block.id, line) not in doomed]
                if len(kept) == len(lines):
                    break
                if await self.store.blocks.update(block.id, block.version, "\n".join(kept)):
                    removed += len(lines) - len(kept)
                    break
        return removed

    async def drop_summaries(self, summary_ids: Iterable[str]) -> int:
        """Empty these summaries; the next turn refolds them from the messages that remain."""
        return await self.blank_summaries(conversation_of(i) for i in sorted(summary_ids))

    async def blank_summaries(self, conversations: Iterable[ConversationKey]) -> int:
        dropped = 0
        for key in conversations:
            while (summary := await self.store.summaries.get(key)) is not None and summary.text:
                empty = replace(summary, text="", through_seq=0)
                if await self.store.summaries.put(empty, summary.version):
                    dropped += 1
                    break
        return dropped


async def forget_lost_sources(
    store: Store, messages: Iterable[Message], passage_ids: Collection[str] = ()
) -> ForgetReport:
    """``Forgetting.forget_lost`` on ``store``: for a background job, once it has written what
    it derived from these messages and passages."""
    return await Forgetting(store).forget_lost(messages, passage_ids)


def line_ids(block_id: str, value: str) -> list[str]:
    """The lineage ids of every non-empty line of a block's value."""
    return [block_line_id(block_id, line) for line in value.split("\n") if line.strip()]


def merged(*reports: ForgetReport) -> ForgetReport:
    """One report counting what all of ``reports`` removed."""
    totals = {name: sum(getattr(r, name) for r in reports) for name in ForgetReport.__slots__}
    return ForgetReport(**totals)


def records_by_kind(records: Sequence[DerivedRecord]) -> dict[Derived, set[str]]:
    grouped: dict[Derived, set[str]] = defaultdict(set)
    for record in records:
        grouped[record.kind].add(record.record_id)
    return grouped


class SettleSoon:
    """Settles the store (``Store.settle_forget``) shortly after platform edits and deletes,
    off the intake path: requests made while a settle waits or runs cost one more settle at
    most, so a burst of deletions merges the search indexes once, not once per message."""

    def __init__(self, store: Store, delay: float = 1.0) -> None:
        self._store = store
        self._delay = delay
        self._task: asyncio.Task[None] | None = None
        self._again = False

    def request(self) -> None:
        if self._task is not None and not self._task.done():
            self._again = True
            return
        self._task = asyncio.create_task(self._run(), name="settle forgotten text")

    async def _run(self) -> None:
        while True:
            self._again = False
            await asyncio.sleep(self._delay)
            try:
                await self._store.settle_forget()
            except Exception:
                log.exception("could not settle the store after a platform deletion")
            if not self._again:
                return

    async def flush(self) -> None:
        """Settle now if a settle is due (at stop, so nothing forgotten stays in the files)."""
        if self._task is None or self._task.done():
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        await self._store.settle_forget()
