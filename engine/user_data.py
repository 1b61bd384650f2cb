"""Users see, export and delete what Mnemo keeps about them (DESIGN §3, last line)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from engine.audience import ALL_WORKSPACES, Scope
from engine.forgetting import Forgetting, block_of, line_ids, merged
from engine.ports import ForgetReport, UserMemoryReport
from engine.records import (
    Block,
    BlockLabel,
    ConversationKey,
    Message,
    Passage,
    shared_owner,
)
from engine.search.hybrid import HybridSearch
from engine.sources.removal import remove_document
from engine.store.codec import encode_datetime
from engine.store.forget_marks import ForgetMark, MarkKind
from engine.store.lineage import Derived, person_source
from engine.store.protocol import RecordFilter, Store
from engine.store.sources import SourceDocument

#: Forgets ``user`` of ``workspace`` from what a platform adapter keeps; how many records went.
type PlatformForgetter = Callable[[str, str], Awaitable[int]]

EXPORT_MESSAGE_LIMIT = 10_000
_BEGINNING = datetime(1970, 1, 1, tzinfo=UTC)


class UserDataService:
    """Implements ``engine.ports.UserMemory`` over every agent of a store."""

    def __init__(self, store: Store, search: HybridSearch | None = None) -> None:
        self._store = store
        #: With ``search``, the messages that followed a forgotten one are embedded again.
        self._forgetting = Forgetting(store, search)
        self._platforms: list[PlatformForgetter] = []

    def also_forget(self, forgetter: PlatformForgetter) -> None:
        """Have ``forget_user`` also forget what a platform adapter keeps about a person
        outside the store's records (the channel they viewed in a Slack assistant thread)."""
        self._platforms.append(forgetter)

    async def about_user(self, workspace: str, user: str) -> UserMemoryReport:
        blocks, passages, _ = await self._collect(workspace, user, message_limit=0)
        count = sum(
            await asyncio.gather(
                *(self._store.messages.count(w) for w in await self._filters(workspace, user))
            )
        )
        return UserMemoryReport(
            workspace=workspace,
            user=user,
            blocks=tuple((b.label, b.scope, b.value) for b in blocks if b.value),
            passages=tuple(p.text for p in passages),
            messages=count,
        )

    async def forget_user(self, workspace: str, user: str) -> ForgetReport:
        """Forget ``user`` in ``workspace``: their messages in every audience, their DMs,
        their ``human`` parts, passages about them, and everything derived from any of those
        (see ``engine.forgetting``); then leave nothing of it in the store's files. Turns
        running meanwhile forget it again once written (``engine.store.forget_marks``)."""
        await self._forgetting.mark(ForgetMark(MarkKind.USER, workspace, user))
        return await self._forget_user(workspace, user)

    async def _forget_user(self, workspace: str, user: str) -> ForgetReport:
        store = self._store
        blocks = await self._blocks_about(workspace, user)
        theirs = await store.messages.ids_of_user(workspace, user)
        gone = await self._forgetting.messages(theirs)
        forgotten = {
            person_source(workspace, user),
            *theirs,
            *await store.passages.ids_of_user(workspace, user),
            *(line for block in blocks for line in line_ids(block.id, block.value)),
        }
        # Before their messages go: which conversations' summaries retell them.
        blanked = await self._forgetting.blank_summaries(
            await self._summaries_quoting(workspace, user)
        )
        derived, wiped = await self._forgetting.remove_derived_later_reindexed(forgotten)
        counts = await asyncio.gather(
            store.blocks.delete_user(workspace, user),
            store.messages.delete_user(workspace, user),
            store.passages.delete_user(workspace, user),
            store.summaries.delete_user(workspace, user),
            # Agent-to-agent messages asked on behalf of their DMs.
            store.mail.delete_user(workspace, user),
        )
        # Documents they shared in chat, in any audience: content they contributed goes with
        # them, as a line built on their words does (its chunks and what was built on them).
        shared = [
            await remove_document(store, d) for d in await store.sources.shared_by(workspace, user)
        ]
        # Documents taught in their DMs (the chunks went with their DM passages).
        taught = await store.sources.delete_user(workspace, user)
        # The pipeline's copies: their words as received, and the replies to them.
        redacted = await store.inbox.redact_user(workspace, user)
        replies = await store.outbox.redact(redacted)
        rejected = await store.inbox.forget_rejected(user)
        # Their ratings of the agent's replies name them.
        ratings = await store.feedback.delete_user(workspace, user)
        # Tool calls they asked for, with what they said.
        approvals = await store.approvals.delete_user(workspace, user)
        platform = [await forget(workspace, user) for forget in self._platforms]
        await self._forgetting.reindex_followers([*gone, *wiped])
        await store.settle_forget()
        blocks_deleted, messages, passages, summaries, mail = counts
        return merged(
            derived,
            *shared,
            ForgetReport(
                messages=messages,
                documents=taught,
                ratings=ratings,
                approvals=approvals,
                platform_records=sum(platform),
                blocks=blocks_deleted,
                passages=passages,
                summaries=blanked + summaries,
                mail=mail,
                inbox=len(redacted) + rejected,
                outbox=replies,
            ),
        )

    async def forget_memory(self, workspace: str, kind: Derived, record_id: str) -> ForgetReport:
        """Forget one block line (``block_line_id``) or passage of ``workspace``, and what was
        derived from it. Nothing happens for a record of another workspace or kind."""
        if not await self._belongs(workspace, kind, record_id):
            return ForgetReport()
        await self._forgetting.mark(ForgetMark(MarkKind.RECORD, workspace, kind, record_id))
        report = await self._forgetting.forget({kind: {record_id}})
        await self._store.settle_forget()
        return report

    async def redo_forgets(self, marks: Sequence[str]) -> None:
        """Forget again what a turn that ran during these forgets may have stored from what
        they removed (``engine.pipeline.forgotten``)."""
        for mark in dict.fromkeys(ForgetMark.decode(text) for text in marks):
            if mark.kind is MarkKind.USER:
                await self._forget_user(mark.workspace, mark.subject)
            elif mark.kind is MarkKind.MESSAGE:
                where = (mark.workspace, mark.subject, mark.detail)
                await self._forgetting.platform_delete(*where, mark=False)
            else:
                await self._forgetting.forget({Derived(mark.subject): {mark.detail}})
        await self._store.settle_forget()

    async def _belongs(self, workspace: str, kind: Derived, record_id: str) -> bool:
        if kind is Derived.PASSAGE:
            passage = await self._store.passages.get(record_id)
            return passage is not None and passage.workspace == workspace
        if kind is Derived.BLOCK_LINE:
            block = await self._store.blocks.get(block_of(record_id))
            return block is not None and block.workspace in (workspace, ALL_WORKSPACES)
        return False

    async def _summaries_quoting(self, workspace: str, user: str) -> list[ConversationKey]:
        """Every channel conversation ``user`` spoke in that has a summary: it is refolded
        from the messages that remain (their DMs' summaries are deleted outright)."""
        quoting = []
        for activity in await self._store.messages.conversations_since(_BEGINNING):
            key = activity.conversation
            if key.workspace != workspace:
                continue
            summary = await self._store.summaries.get(key)
            if summary is None or not summary.text:
                continue
            spoke = RecordFilter(
                key.agent_id,
                workspace,
                (summary.scope, activity.scope),
                channel=key.channel,
                user=user,
            )
            if await self._store.messages.count(spoke):
                quoting.append(key)
        return quoting

    async def export_user(self, workspace: str, user: str) -> bytes:
        blocks, passages, messages = await self._collect(
            workspace, user, message_limit=EXPORT_MESSAGE_LIMIT
        )
        document = {
            "workspace": workspace,
            "user": user,
            "blocks": [
                {"label": b.label, "visible_to": b.scope.visibility, "text": b.value}
                for b in blocks
            ],
            "archival": [
                {
                    "text": p.text,
                    "tags": list(p.tags),
                    "visible_to": p.scope.visibility,
                    "created_at": encode_datetime(p.created_at),
                }
                for p in passages
            ],
            "messages": [
                {
                    "channel": m.channel,
                    "thread": m.thread,
                    "text": m.content,
                    "sent_at": encode_datetime(m.created_at),
                }
                for m in messages
            ],
            "ratings": [
                {
                    "rating": f.rating.value,
                    "reply": f.reply_id,
                    "channel": f.channel,
                    "at": encode_datetime(f.at),
                }
                for f in await self._store.feedback.of_user(workspace, user)
            ],
            "documents": [
                await self._exported_document(d, user)
                for d in await self._documents_of(workspace, user)
            ],
            "tool_requests": [
                {
                    "tool": r.tool,
                    "arguments": r.arguments,
                    "channel": r.channel,
                    "status": r.status.value,
                    "asked_at": encode_datetime(r.created_at),
                }
                for r in await self._store.approvals.of_user(workspace, user)
            ],
        }
        return json.dumps(document, ensure_ascii=False, indent=2).encode()

    async def _documents_of(self, workspace: str, user: str) -> list[SourceDocument]:
        """The documents they shared in chat, in any audience, and those taught in their DMs."""
        sources = self._store.sources
        private = Scope.dm(user)
        found = {d.id: d for d in await sources.shared_by(workspace, user)}
        for agent in await self._store.agents.list():
            for document in await sources.documents(agent.id, workspace):
                if document.scope == private:
                    found[document.id] = document
        return sorted(found.values(), key=lambda d: (d.name, d.id))

    async def _exported_document(self, document: SourceDocument, user: str) -> dict[str, Any]:
        """A document as exported: what it is, and the text of each of its chunks."""
        chunks = await self._store.sources.chunks_of(document.id)
        passages = await asyncio.gather(*(self._store.passages.get(c.id) for c in chunks))
        return {
            "name": document.name,
            "title": document.title,
            "visible_to": document.scope.visibility,
            "shared_by_you": user in document.shared_by,
            "added_at": encode_datetime(document.added_at),
            "sections": [
                {"section": chunk.section, "page": chunk.page, "text": passage.text}
                for chunk, passage in zip(chunks, passages, strict=True)
                if passage is not None
            ],
        }

    async def _filters(self, workspace: str, user: str) -> list[RecordFilter]:
        scopes = (Scope.workspace(), Scope.dm(user))
        return [
            RecordFilter(agent.id, workspace, scopes, user=user)
            for agent in await self._store.agents.list()
        ]

    async def _collect(
        self, workspace: str, user: str, *, message_limit: int
    ) -> tuple[list[Block], list[Passage], list[Message]]:
        blocks = await self._blocks_about(workspace, user)
        passages: list[Passage] = []
        messages: list[Message] = []
        for where in await self._filters(workspace, user):
            passages += await self._store.passages.list(where, limit=1000)
            if message_limit:
                messages += await self._store.messages.list(where, limit=message_limit)
        return blocks, passages, messages

    async def _blocks_about(self, workspace: str, user: str) -> list[Block]:
        """The user's ``human`` parts and every part learned in a DM with them."""
        agents = await self._store.agents.list()
        private = Scope.dm(user)
        # Agents' own blocks, and the shared blocks they use (whose DM parts are the user's).
        owners = {agent.id for agent in agents} | {
            shared_owner(label) for agent in agents for label in agent.shared_blocks
        }
        return [
            block
            for owner in sorted(owners)
            for block in await self._store.blocks.list(owner, workspace)
            if (block.label == BlockLabel.HUMAN and block.subject == user) or block.scope == private
        ]


def render_report(report: UserMemoryReport) -> str:
    """The report as Markdown, for a platform's ephemeral reply."""
    lines = ["*What I keep about you*"]
    if report.blocks:
        for label, scope, text in report.blocks:
            lines.append(f"• _{label}_ ({scope.visibility}): {text}")
    else:
        lines.append("• No notes about you.")
    if report.passages:
        lines.append(f"*Archival notes* ({len(report.passages)}):")
        lines += [f"• {text}" for text in _first(report.passages, 20)]
    lines.append(f"Messages of yours I remember: {report.messages}.")
    return "\n".join(lines)


#: How each count of a ``ForgetReport`` is said, one and many.
_REMOVED_KINDS = (
    ("messages", "message", "messages"),
    ("redacted_messages", "message of mine redacted", "messages of mine redacted"),
    ("blocks", "note", "notes"),
    ("block_lines", "line of my notes", "lines of my notes"),
    ("passages", "archival note", "archival notes"),
    ("digests", "channel digest", "channel digests"),
    ("summaries", "conversation summary", "conversation summaries"),
    ("mail", "message to another agent", "messages to other agents"),
    ("inbox", "received copy redacted", "received copies redacted"),
    ("outbox", "sent reply redacted", "sent replies redacted"),
    ("job_records", "job record", "job records"),
    ("documents", "document", "documents"),
    ("ratings", "rating of my replies", "ratings of my replies"),
    ("approvals", "tool request", "tool requests"),
    ("platform_records", "assistant thread record", "assistant thread records"),
)


def render_forget(report: ForgetReport) -> str:
    """What a forget removed, in words ("3 messages, 1 line of my notes"), for its asker."""
    said = [
        f"{count} {one if count == 1 else many}"
        for name, one, many in _REMOVED_KINDS
        if (count := getattr(report, name))
    ]
    return ", ".join(said) if said else "nothing"


def _first(items: Sequence[str], n: int) -> Sequence[str]:
    return items[:n] if len(items) <= n else [*items[:n], f"… and {len(items) - n} more"]
