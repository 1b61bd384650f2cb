"""How far reading each channel's past messages into recall got, so a restart continues there.

A platform adapter reads a channel's history page by page and hands each past message to the
engine's intake as one to remember, never to answer; after each page it saves here where the
next page starts. The operator reads the same records (``mnemo history status``, the
inspector) to see what was learned.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from engine.records import utcnow
from engine.store.codec import decode, encode
from engine.store.protocol import KeyValueStore

#: The key-value namespace of the progress records: small, one per channel and agent.
NAMESPACE = "channel_history"


@dataclass(frozen=True, slots=True)
class BackfillProgress:
    """One agent's reading of one channel's history: where it stands and what it found."""

    platform: str
    agent_id: str
    workspace: str
    channel: str
    started_at: datetime
    updated_at: datetime
    #: How people call the channel ("#general"), for the operator.
    channel_name: str = ""
    #: Where the next page starts, in the platform's terms (a Slack ts, a Discord message
    #: id); "" before the first page.
    cursor: str = ""
    #: Platform messages read, those kept in recall, and those passed over (already stored,
    #: the bot's own, notices, empty).
    read: int = 0
    stored: int = 0
    skipped: int = 0
    done: bool = False
    #: Why the last attempt stopped early ("" when it did not).
    error: str = ""

    @property
    def key(self) -> str:
        return progress_key(self.platform, self.agent_id, self.workspace, self.channel)

    @property
    def state(self) -> str:
        """ "done", "stopped" (an error; learning the channel again resumes) or "reading"."""
        if self.done:
            return "done"
        return "stopped" if self.error else "reading"

    def advanced(self, cursor: str, read: int, stored: int, skipped: int) -> BackfillProgress:
        """This progress after one more page."""
        return replace(
            self,
            cursor=cursor,
            read=self.read + read,
            stored=self.stored + stored,
            skipped=self.skipped + skipped,
            updated_at=utcnow(),
            error="",
        )

    def finished(self) -> BackfillProgress:
        return replace(self, done=True, error="", updated_at=utcnow())

    def failed(self, error: str) -> BackfillProgress:
        return replace(self, error=error, updated_at=utcnow())


def progress_key(platform: str, agent_id: str, workspace: str, channel: str) -> str:
    return f"{platform}/{agent_id}/{workspace}/{channel}"


class BackfillLedger:
    """The progress records of channel history reads, kept in the key-value store."""

    def __init__(self, kv: KeyValueStore) -> None:
        self._kv = kv

    async def get(
        self, platform: str, agent_id: str, workspace: str, channel: str
    ) -> BackfillProgress | None:
        doc = await self._kv.get(NAMESPACE, progress_key(platform, agent_id, workspace, channel))
        return decode(BackfillProgress, doc) if doc is not None else None

    async def save(self, progress: BackfillProgress) -> None:
        await self._kv.put(NAMESPACE, progress.key, encode(progress))

    async def all(self) -> list[BackfillProgress]:
        """Every channel's progress, most recently updated first."""
        found = [decode(BackfillProgress, doc) for _, doc in await self._kv.list(NAMESPACE)]
        return sorted(found, key=lambda p: p.updated_at, reverse=True)
