"""Users see, export and delete what Mnemo keeps about them (DESIGN §3, last line)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime

from engine.audience import Scope
from engine.ports import UserMemoryReport
from engine.records import Block, BlockLabel, Message, Passage, shared_owner
from engine.store.codec import encode_datetime
from engine.store.protocol import RecordFilter, Store

EXPORT_MESSAGE_LIMIT = 10_000
_BEGINNING = datetime(1970, 1, 1, tzinfo=UTC)


class UserDataService:
    """Implements ``engine.ports.UserMemory`` over every agent of a store."""

    def __init__(self, store: Store) -> None:
        self._store = store

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

    async def forget_user(self, workspace: str, user: str) -> int:
        store = self._store
        # Before their messages go: which conversations' summaries retell them.
        blanked = await self._blank_summaries_quoting(workspace, user)
        counts = await asyncio.gather(
            store.blocks.delete_user(workspace, user),
            store.messages.delete_user(workspace, user),
            store.passages.delete_user(workspace, user),
            store.summaries.delete_user(workspace, user),
            # Agent-to-agent messages asked on behalf of their DMs.
            store.mail.delete_user(workspace, user),
        )
        # The pipeline's copies: their words as received, and the replies to them.
        redacted = await store.inbox.redact_user(workspace, user)
        replies = await store.outbox.redact(redacted)
        return blanked + sum(counts) + len(redacted) + replies

    async def _blank_summaries_quoting(self, workspace: str, user: str) -> int:
        """Empty the summary of every channel conversation ``user`` spoke in, so it is
        rebuilt from the messages that remain (their DMs' summaries are deleted outright)."""
        blanked = 0
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
            if not await self._store.messages.count(spoke):
                continue
            empty = replace(summary, text="", through_seq=0, version=summary.version + 1)
            blanked += await self._store.summaries.put(empty, summary.version)
        return blanked

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
        }
        return json.dumps(document, ensure_ascii=False, indent=2).encode()

    async def _filters(self, workspace: str, user: str) -> list[RecordFilter]:
        scopes = (Scope.workspace(), Scope.dm(user))
        return [
            RecordFilter(agent.id, workspace, scopes, user=user)
            for agent in await self._store.agents.list()
        ]

    async def _collect(
        self, workspace: str, user: str, *, message_limit: int
    ) -> tuple[list[Block], list[Passage], list[Message]]:
        agents = await self._store.agents.list()
        private = Scope.dm(user)
        # Agents' own blocks, and the shared blocks they use (whose DM parts are the user's).
        owners = {agent.id for agent in agents} | {
            shared_owner(label) for agent in agents for label in agent.shared_blocks
        }
        blocks = [
            block
            for owner in sorted(owners)
            for block in await self._store.blocks.list(owner, workspace)
            if (block.label == BlockLabel.HUMAN and block.subject == user) or block.scope == private
        ]
        passages: list[Passage] = []
        messages: list[Message] = []
        for where in await self._filters(workspace, user):
            passages += await self._store.passages.list(where, limit=1000)
            if message_limit:
                messages += await self._store.messages.list(where, limit=message_limit)
        return blocks, passages, messages


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


def _first(items: Sequence[str], n: int) -> Sequence[str]:
    return items[:n] if len(items) <= n else [*items[:n], f"… and {len(items) - n} more"]
