"""Retention: each workspace keeps recall for N days, then only summaries.

Before a conversation's old messages are deleted, those not yet folded into its summary are
folded in (when its agent summarises on overflow), so what was said survives as the summary,
the blocks and archival memory. Policies are per workspace in the key-value store; the
default comes from ``MNEMO_JOBS_RECALL_DAYS`` (0: keep everything).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from engine import (
    ConversationActivity,
    Derived,
    KeyValueStore,
    Role,
    Store,
    Summarizer,
    Summary,
    TokenCounter,
    link_derived,
    person_source,
)
from jobs.job import RunContext, Target

POLICIES = "retention"
_BEGINNING = datetime(1970, 1, 1, tzinfo=UTC)
_CAS_ATTEMPTS = 3


class RetentionPolicies:
    """Days of recall each workspace keeps; a workspace without one uses the default."""

    def __init__(self, kv: KeyValueStore, default_days: int) -> None:
        self._kv = kv
        self.default_days = default_days

    async def set(self, workspace: str, recall_days: int) -> None:
        """``recall_days`` 0 keeps everything in this workspace."""
        if recall_days < 0:
            raise ValueError("recall_days must be 0 (keep everything) or more")
        await self._kv.put(POLICIES, workspace, {"recall_days": recall_days})

    async def days(self, workspace: str) -> int:
        doc = await self._kv.get(POLICIES, workspace)
        return int(doc["recall_days"]) if doc else self.default_days

    async def explicit(self) -> dict[str, int]:
        return {ws: int(doc["recall_days"]) for ws, doc in await self._kv.list(POLICIES)}


@dataclass(frozen=True, slots=True)
class WorkspaceRetention:
    workspace: str
    recall_days: int


class RetentionJob:
    name = "retention"

    def __init__(self, store: Store, default_days: int, cadence_s: float) -> None:
        self._store = store
        self.policies = RetentionPolicies(store.kv, default_days)
        self._tokens = functools.cache(TokenCounter)
        self.cadence_s = cadence_s

    async def targets(self, now: datetime) -> Sequence[Target[WorkspaceRetention]]:
        days = await self.policies.explicit()
        if self.policies.default_days:
            cutoff = now - timedelta(days=self.policies.default_days)
            for activity in await self._store.messages.conversations_since(_BEGINNING, cutoff):
                days.setdefault(activity.conversation.workspace, self.policies.default_days)
        return [
            Target(ws, ws, None, WorkspaceRetention(ws, n)) for ws, n in sorted(days.items()) if n
        ]

    async def run(self, target: WorkspaceRetention, ctx: RunContext) -> str:
        cutoff = ctx.now - timedelta(days=target.recall_days)
        expiring = [
            a
            for a in await self._store.messages.conversations_since(_BEGINNING, cutoff)
            if a.conversation.workspace == target.workspace
        ]
        folded = 0
        for activity in expiring:
            folded += await self._fold(activity, ctx)
        deleted = await self._store.messages.delete_before(target.workspace, cutoff)
        return (
            f"{deleted} messages older than {target.recall_days} days deleted; "
            f"{folded} folded into summaries first"
        )

    async def _fold(self, activity: ConversationActivity, ctx: RunContext) -> int:
        """Fold the conversation's expiring messages into its summary; returns how many."""
        agent = await self._store.agents.get(activity.conversation.agent_id)
        if agent is None or agent.overflow != "summarize":
            return 0
        for _ in range(_CAS_ATTEMPTS):
            summary = await self._store.summaries.get(activity.conversation)
            through = summary.through_seq if summary else 0
            if through >= activity.last_seq:
                return 0
            messages = await self._store.messages.between(
                activity.conversation, through, activity.last_seq
            )
            summarizer = Summarizer(ctx.model, self._tokens)
            text = await summarizer.summarize(agent, summary.text if summary else "", messages)
            updated = Summary(
                agent_id=agent.id,
                workspace=activity.conversation.workspace,
                channel=activity.conversation.channel,
                thread=activity.conversation.thread,
                scope=activity.scope,
                text=text,
                through_seq=activity.last_seq,
                version=(summary.version + 1) if summary else 1,
                updated_at=ctx.now,
            )
            # The folded messages are deleted next: the summary links to the people who
            # said them, so forgetting one of them still finds it.
            workspace = activity.conversation.workspace
            speakers = {m.author for m in messages if m.role is Role.USER and m.author}
            await link_derived(
                self._store.lineage,
                workspace,
                Derived.SUMMARY,
                str(activity.conversation),
                [(None, m.id) for m in messages]
                + [(None, person_source(workspace, who)) for who in sorted(speakers)],
            )
            if await self._store.summaries.put(updated, summary.version if summary else 0):
                return len(messages)
        raise RuntimeError(f"the summary of {activity.conversation} kept changing; retry later")
