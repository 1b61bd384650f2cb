"""Consolidation: what was said while the agent talked becomes lasting memory.

For each conversation with messages past its checkpoint, and quiet for the idle delay, memory
passes read the new messages in batches and update the blocks and archival memory of the
conversation's audience. The checkpoint (the last message read) moves after each batch, so a
run stopped by its budget, a failure or a crash goes on where it left off. A pass fits the
run's budget whatever was said: a message longer than a pass may read is clipped for it, so
no message can hold the checkpoint back.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from engine import (
    AudienceKind,
    ConversationActivity,
    ConversationKey,
    Feedback,
    JobCheckpoint,
    Message,
    Rating,
    Role,
    Scope,
    person_source,
    run_pass,
)
from jobs.job import MemoryJob, RunContext, Target
from jobs.memory_pass import MEMORY_WRITES, memory_pass, transcript
from jobs.settings import ConsolidationSettings

log = logging.getLogger(__name__)

#: Characters of transcript one pass reads at most (about 6k tokens).
_PASS_CHARS = 24_000
#: A pass reads at most this share of the run's token budget (about 4 characters a token),
#: so its steps, each reading the transcript again, fit in what the run may spend.
_PASS_BUDGET_SHARE = 0.25
_CLIP_MARK = " [... {cut} characters left out of this memory pass ...]"


class ConsolidationJob(MemoryJob[ConsolidationSettings]):
    name = "consolidate"

    async def targets(self, now: datetime) -> Sequence[Target[ConversationActivity]]:
        since = now - timedelta(hours=self._settings.lookback_hours)
        quiet_since = now - timedelta(minutes=self._settings.idle_minutes)
        due: list[Target[ConversationActivity]] = []
        for activity in await self._store.messages.conversations_since(since):
            if activity.last_at > quiet_since:
                continue
            if await self.checkpoint(activity.conversation) >= activity.last_seq:
                continue
            key = str(activity.conversation)
            due.append(Target(key, activity.conversation.workspace, activity.scope, activity))
        return due

    async def checkpoint(self, conversation: ConversationKey) -> int:
        """The seq of the last message consolidated (0: none yet)."""
        saved = await self._store.jobs.checkpoint(self.name, str(conversation))
        return saved.seq if saved else 0

    async def _save_checkpoint(self, activity: ConversationActivity, seq: int) -> None:
        conversation = activity.conversation
        await self._store.jobs.save_checkpoint(
            self.name,
            str(conversation),
            JobCheckpoint(conversation.workspace, activity.scope, seq=seq),
        )

    async def run(self, activity: ConversationActivity, ctx: RunContext) -> str:
        conversation = activity.conversation
        agent = await self._store.agents.get(conversation.agent_id)
        if agent is None:
            return "agent no longer exists"
        after = await self.checkpoint(conversation)
        new = await self._store.messages.between(conversation, after, activity.last_seq)
        stored = {m.id: m for m in new}
        limit = min(_PASS_CHARS, int(ctx.model.budget * 4 * _PASS_BUDGET_SHARE))
        passes = writes = 0
        for batch in self._batches([_clipped(m, limit, conversation) for m in new], limit):
            # A channel that changed audience holds messages of both: each batch is one
            # audience's, and what it teaches lands where that audience reads.
            audience = batch[0].scope.audience_of(
                conversation, outside=await self._heard_outside(batch)
            )
            ratings = await self._store.feedback.for_turns(
                sorted({m.turn_id for m in batch if m.turn_id})
            )
            lines = transcript(batch, agent.name) + rating_lines(ratings)
            # The assistant's own replies alone teach nothing new about anyone.
            if any(m.role is Role.USER for m in batch):
                task = await memory_pass(
                    self._store,
                    agent,
                    audience,
                    channel_name=(
                        "direct messages"
                        if audience.kind is AudienceKind.DM
                        else conversation.channel
                    ),
                    people={m.author: m.author_name for m in batch if m.role is Role.USER},
                    lines=lines,
                    now=ctx.now,
                    max_steps=self._settings.pass_steps,
                    # A rating names its rater: what is learned from it is theirs too.
                    read=[m.id for m in batch]
                    + sorted({person_source(f.workspace, f.user) for f in ratings}),
                )
                ctx.reads(stored[m.id] for m in batch)
                report = await run_pass(self._store, self._embedder, task, ctx.model)
                writes += report.succeeded(MEMORY_WRITES)
                passes += 1
            await self._save_checkpoint(activity, batch[-1].seq)
        if not new:
            await self._save_checkpoint(activity, activity.last_seq)
        return f"{len(new)} messages read in {passes} passes; {writes} memory writes"

    async def _heard_outside(self, batch: Sequence[Message]) -> bool:
        """Whether people of another organisation heard ``batch`` (a Slack Connect channel or
        DM, or a turn with someone outside): the inbox items of its turns keep the audience
        they came from, and a pass over such talk reads nothing of the workspace's memory,
        as the turns themselves did not. A public channel's talk never is."""
        if batch[0].scope == Scope.workspace():
            return False
        for turn in sorted({m.turn_id for m in batch if m.turn_id}):
            item = await self._store.inbox.get(turn)
            if item is not None and item.inbound.audience.outside:
                return True
        return False

    def _batches(
        self, messages: Sequence[Message], limit: int = _PASS_CHARS
    ) -> list[Sequence[Message]]:
        """Consecutive runs of messages of one scope within the per-pass message and size
        (``limit`` characters) limits."""
        batches: list[Sequence[Message]] = []
        start = size = 0
        for i, m in enumerate(messages):
            full = i - start >= self._settings.batch_messages
            other_audience = m.scope != messages[start].scope
            if i > start and (full or other_audience or size + len(m.content) > limit):
                batches.append(messages[start:i])
                start, size = i, 0
            size += len(m.content)
        if start < len(messages):
            batches.append(messages[start:])
        return batches


def _clipped(message: Message, limit: int, conversation: ConversationKey) -> Message:
    """``message`` cut to ``limit`` characters for a pass (its stored text stays whole)."""
    if len(message.content) <= limit:
        return message
    mark = _CLIP_MARK.format(cut=len(message.content) - limit)
    log.info(
        "consolidating %s: message %s has %d characters; a memory pass reads its first %d",
        conversation,
        message.id,
        len(message.content),
        limit - len(mark),
    )
    return dataclasses.replace(message, content=message.content[: limit - len(mark)] + mark)


def rating_lines(ratings: Sequence[Feedback]) -> list[str]:
    """How people rated the replies of a batch's turns: a signal of what helped them, read
    with what was said."""
    return [
        f"[{f.at:%Y-%m-%d %H:%M}] (feedback) user {f.user} rated the assistant's reply "
        + ("helpful" if f.rating is Rating.GOOD else "not helpful")
        for f in ratings
    ]
