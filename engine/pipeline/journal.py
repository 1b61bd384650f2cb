"""The turn journal: a turn's outcome, written before it is applied, so it is applied once.

A crash after the model answered must neither run the turn again (a second, different answer)
nor lose it. The worker journals the outcome under the batch's first inbox item (the oldest
pending item of the conversation, so it stays first until the batch is applied), then applies
it with idempotent writes; a retry that finds a journal re-applies it instead of re-running.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from engine.records import JSON, Message, Outbound
from engine.store.codec import decode, encode
from engine.store.protocol import KeyValueStore

NAMESPACE = "turns"


class TurnOutcome(StrEnum):
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """Everything applying a turn writes: recall messages, replies, and the items it closes."""

    head: str
    items: tuple[str, ...]
    outcome: TurnOutcome
    messages: tuple[Message, ...]
    replies: tuple[Outbound, ...]
    error: str = ""

    def to_doc(self) -> JSON:
        return {
            "items": list(self.items),
            "outcome": self.outcome.value,
            "messages": [encode(m) for m in self.messages],
            "replies": [encode(r) for r in self.replies],
            "error": self.error,
        }

    @classmethod
    def from_doc(cls, head: str, doc: JSON) -> JournalEntry:
        return cls(
            head=head,
            items=tuple(str(i) for i in doc["items"]),
            outcome=TurnOutcome(doc["outcome"]),
            messages=tuple(decode(Message, m) for m in doc.get("messages") or ()),
            replies=tuple(decode(Outbound, r) for r in doc.get("replies") or ()),
            error=str(doc.get("error", "")),
        )


class TurnJournal:
    def __init__(self, kv: KeyValueStore) -> None:
        self._kv = kv

    async def find(self, head: str) -> JournalEntry | None:
        doc = await self._kv.get(NAMESPACE, head)
        return None if doc is None else JournalEntry.from_doc(head, doc)

    async def record(self, entry: JournalEntry) -> JournalEntry:
        """Keep ``entry`` unless a journal for its batch exists; return the one that counts."""
        existing = await self.find(entry.head)
        if existing is not None:
            return existing
        await self._kv.put(NAMESPACE, entry.head, entry.to_doc())
        return entry

    async def forget(self, heads: Sequence[str]) -> None:
        for head in heads:
            await self._kv.delete(NAMESPACE, head)
