"""Channel digests: a busy channel's day, summarised for that channel's audience.

Once a day is over, each channel (not DMs) where enough people's messages were posted gets
one archival passage tagged ``digest`` under the channel's scope: a public channel's digest
is visible in its workspace, a private channel's only in that channel. The passage id is
derived from the channel and the day, so a day is digested once. A digest is derived from
the messages it summarised.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from engine import ChatRequest, Derived, Passage, RecordFilter, Role, Scope, link_derived
from jobs.hygiene import DIGEST_TAG
from jobs.job import MemoryJob, RunContext, Target
from jobs.memory_pass import transcript
from jobs.settings import DigestSettings

DIGEST_PROMPT = """\
You write the daily digest of a chat channel for {name}, an assistant who is a member of it. \
From the day's messages, write what matters a week from now: topics, decisions, who committed \
to what, open questions, dates and names exactly. Skip greetings and small talk. At most \
{words} words of plain prose. Output only the digest."""

DIGEST_WORDS = 200
#: Messages of one day read at most (the newest are kept when a day has more).
_DAY_MESSAGES = 1000
_DIGEST_CHARS = 40_000


@dataclass(frozen=True, slots=True)
class ChannelDay:
    agent_id: str
    workspace: str
    channel: str
    scope: Scope
    day: date

    @property
    def passage_id(self) -> str:
        name = f"{self.agent_id}/{self.workspace}/{self.channel}/{self.day.isoformat()}"
        return "digest-" + hashlib.sha256(name.encode()).hexdigest()[:32]


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, UTC)
    return start, start + timedelta(days=1)


class DigestJob(MemoryJob[DigestSettings]):
    name = "digest"

    async def targets(self, now: datetime) -> Sequence[Target[ChannelDay]]:
        """Channels of yesterday (UTC) busy enough and not yet digested."""
        day = now.astimezone(UTC).date() - timedelta(days=1)
        start, end = day_bounds(day)
        counts: dict[ChannelDay, int] = {}
        for a in await self._store.messages.conversations_since(start, end):
            if a.scope.is_dm:
                continue
            c = a.conversation
            key = ChannelDay(c.agent_id, c.workspace, c.channel, a.scope, day)
            counts[key] = counts.get(key, 0) + a.messages
        due: list[Target[ChannelDay]] = []
        for channel_day, count in sorted(counts.items(), key=lambda kv: kv[0].passage_id):
            if count < self._settings.digest_min_messages:
                continue
            if await self._store.passages.get(channel_day.passage_id) is not None:
                continue
            name = f"{channel_day.agent_id}/{channel_day.workspace}/{channel_day.channel}/{day}"
            due.append(Target(name, channel_day.workspace, channel_day.scope, channel_day))
        return due

    async def run(self, target: ChannelDay, ctx: RunContext) -> str:
        agent = await self._store.agents.get(target.agent_id)
        if agent is None:
            return "agent no longer exists"
        start, end = day_bounds(target.day)
        where = RecordFilter(
            target.agent_id,
            target.workspace,
            (target.scope,),
            start=start,
            end=end - timedelta(microseconds=1),
            channel=target.channel,
        )
        day = (await self._store.messages.list(where, _DAY_MESSAGES))[::-1]
        said = [m for m in day if m.role is Role.USER]
        if len(said) < self._settings.digest_min_messages:
            return f"quiet day: {len(said)} messages from people"
        ctx.reads(day)
        lines = transcript(day, agent.name)
        while sum(len(line) for line in lines) > _DIGEST_CHARS:
            lines = lines[len(lines) // 4 :]
        completion = await ctx.model.complete(
            ChatRequest(
                agent.model,
                [
                    {
                        "role": "system",
                        "content": DIGEST_PROMPT.format(name=agent.name, words=DIGEST_WORDS),
                    },
                    {
                        "role": "user",
                        "content": f"Messages of {target.channel} on {target.day}:\n"
                        + "\n".join(lines),
                    },
                ],
            )
        )
        summary = (completion.text or "").strip()
        if not summary:
            raise ValueError("the model wrote an empty digest")
        text = f"Digest of {target.channel} on {target.day:%Y-%m-%d}: {summary}"
        vector = (await self._embedder.embed([text]))[0]
        # Linked before it is stored, so no digest outlives a forget of what it summarised.
        summarised = [(None, m.id) for m in day]
        await link_derived(
            self._store.lineage, target.workspace, Derived.DIGEST, target.passage_id, summarised
        )
        await self._store.passages.insert(
            [
                Passage(
                    id=target.passage_id,
                    agent_id=target.agent_id,
                    workspace=target.workspace,
                    scope=target.scope,
                    text=text,
                    tags=(DIGEST_TAG,),
                    users=tuple(sorted({m.author for m in said})),
                    created_at=end - timedelta(seconds=1),
                    embedding=tuple(float(x) for x in vector),
                )
            ]
        )
        return f"digest of {len(said)} messages"
