"""The durable queues a message travels through: the inbox (accepted messages), the turn that
closes a batch of them, the outbox (replies until delivered) and the leases that keep one
process per conversation. Each write is idempotent, so a crash or a retry repeats nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from engine.records import JSON, Agent, Inbound, Outbound, new_id, next_seq, seq_at
from engine.store.forget_marks import MarkedItem
from engine.store.state import JournalEntry, TurnOutcome


class InboxStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class InboxItem:
    id: str
    inbound: Inbound
    conversation: str
    seq: int
    status: InboxStatus
    attempts: int = 0
    error: str = ""

    @classmethod
    def pending(cls, inbound: Inbound) -> InboxItem:
        """A newly accepted message, queued behind what its conversation already holds (a
        past message at its place in time)."""
        seq = seq_at(inbound.sent_at) if inbound.past else next_seq()
        return cls(new_id(), inbound, str(inbound.conversation), seq, InboxStatus.PENDING)


class InboxStore(Protocol):
    async def put(self, item: InboxItem) -> bool:
        """Store an accepted message. False when it is a duplicate for the same agent: same
        platform, agent and event id, or same platform, agent, channel, message ref and kind (one
        message seen twice). Each agent a message addresses gets its own item."""

    async def pending_conversations(self, limit: int) -> list[str]:
        """Conversations that have pending items, oldest first."""

    async def pending(self, conversation: str, limit: int) -> list[InboxItem]:
        """A conversation's pending items in arrival order."""

    async def mark(self, item_id: str, status: InboxStatus, error: str = "") -> None: ...

    async def record_attempt(self, item_id: str) -> int:
        """Count one more processing attempt; returns the new count."""

    async def record_failure(self, item_id: str, error: str) -> None:
        """Count one more processing attempt that failed with ``error``; the item stays
        pending, to be tried again."""

    async def get(self, item_id: str) -> InboxItem | None: ...

    async def depth(self) -> int:
        """Pending items across all conversations (a metric)."""

    async def put_rejected(self, platform: str, raw: JSON, error: str) -> None:
        """Keep an event that could not be parsed, with its error, for the operator."""

    async def rejected(self, limit: int) -> list[JSON]: ...

    async def redact_user(self, workspace: str, user: str) -> list[str]:
        """``forget``: blank the text of settled items ``user`` wrote in ``workspace`` or that
        were sent in DMs with them; the items stay, so a platform's retry is still known as
        one. Returns the ids of the items redacted."""

    async def forget_rejected(self, user: str) -> int:
        """``forget``: delete the kept unparsable events that name ``user`` (their raw text
        may hold the user's words); returns how many."""

    async def redact(self, item_ids: Sequence[str]) -> list[str]:
        """Blank the text of these settled items (a message deleted or edited on the platform:
        its user message has the item's id). Returns the ids of the items redacted."""

    async def mark_forgotten(self, workspace: str, mark: str) -> int:
        """A forget is starting in ``workspace``: note ``mark`` (``ForgetMark.encode``) on
        every pending item there, for the turn that settles them (``AppliedTurn.forgotten``).
        Returns how many items it marked (an item already carrying ``mark`` is not counted)."""

    async def marked(self, limit: int) -> list[MarkedItem]:
        """Settled items that still carry marks: their turn's forgets are still to redo."""

    async def clear_marks(self, item_ids: Sequence[str]) -> None:
        """The forgets noted on these items are redone: drop their marks."""


#: Vectors by record id.
type Embeddings = Sequence[tuple[str, Sequence[float]]]


@dataclass(frozen=True, slots=True)
class PendingBatch:
    """A conversation's pending items, read with what their turn needs first."""

    items: list[InboxItem]
    #: The outcome journalled under the first item, if any.
    journalled: JournalEntry | None = None
    #: The agent the items are for (None when there are none, or no such agent).
    agent: Agent | None = None


def closing_status(entry: JournalEntry) -> InboxStatus:
    """What applying a turn's outcome marks its inbox items."""
    return InboxStatus.DONE if entry.outcome is TurnOutcome.DONE else InboxStatus.FAILED


@dataclass(frozen=True, slots=True)
class AppliedTurn:
    """What ``TurnStore.apply`` wrote, and the forgets that landed while its turn ran."""

    entry: JournalEntry
    #: Marks (``ForgetMark.encode``) found on the turn's items as it was written: what the
    #: turn stored may come from what those forgets removed, so they are to be redone.
    forgotten: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DeliveryClaim:
    """Replies written already claimed for delivery by ``holder`` for ``ttl`` seconds: the
    process that writes them delivers them next, so it needs no claim of its own."""

    holder: str
    ttl: float


class TurnStore(Protocol):
    """A conversation's next batch and the writes that close it, in as few round trips as the
    store allows: the batch with its journalled outcome in one read, the outcome's writes in
    one transaction (SQLite) or in an order that survives a crash at any point (MongoDB)."""

    async def pending(self, conversation: str, limit: int) -> PendingBatch:
        """``InboxStore.pending``, with the outcome journalled under the first item and the
        agent the items are for."""

    async def apply(
        self,
        entry: JournalEntry,
        *,
        journalled: bool = False,
        embeddings: Embeddings = (),
        claim: DeliveryClaim | None = None,
        attempt: int = 0,
    ) -> AppliedTurn:
        """Write a turn's outcome once: its messages (with ``embeddings``, by message id) and
        their lineage, its replies to the outbox, its items marked (the first last, with the
        ``attempt`` that produced the outcome, when given), its journal entry dropped.

        Unless ``journalled`` (it was read from the journal), an outcome journalled before
        under the same first item (an earlier attempt, another process) wins over ``entry``,
        and is written without ``embeddings``. Every write is idempotent, so applying again
        after a crash writes nothing twice. Returns the outcome written, with the forget
        marks its items carry, read in the same write as the items are marked (SQLite) or by
        the write that marks the first item (MongoDB), so a forget either finds what the turn
        wrote or leaves its mark for it.

        Replies of a fresh ``entry`` (not journalled, not beaten by an earlier outcome) are
        new to the outbox and written claimed by ``claim``; an earlier outcome's replies may
        be stored already, and are left as they are.
        """


class OutboxStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    #: Refused for good by the platform: kept with its error, never attempted again.
    UNDELIVERABLE = "undeliverable"


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    reply: Outbound
    status: OutboxStatus
    attempts: int = 0
    next_attempt_at: datetime | None = None
    platform_ref: str = ""
    error: str = ""


class OutboxStore(Protocol):
    async def put(self, replies: Sequence[Outbound], claim: DeliveryClaim | None = None) -> None:
        """Record replies (claimed by ``claim``); one with the same (inbox_id, index) as a
        stored one is ignored."""

    async def for_inbox(self, inbox_id: str) -> list[OutboxEntry]: ...

    async def due(self, now: datetime, limit: int) -> list[OutboxEntry]:
        """Pending replies whose next attempt is due, oldest first."""

    async def claim(self, reply_id: str, holder: str, ttl: float) -> OutboxEntry | None:
        """Take a pending reply for delivery by ``holder`` for ``ttl`` seconds (again when it
        is already ``holder``'s) and return its entry; a settled reply's entry is returned
        as it is. None when there is no such reply or another holder's claim is live."""

    async def release(self, reply_id: str, holder: str) -> None:
        """Give back ``holder``'s claim without settling the reply."""

    async def mark_delivered(self, reply_id: str, platform_ref: str) -> None: ...

    async def retry_later(self, reply_id: str, at: datetime, error: str) -> None:
        """Count a failed attempt and schedule the next one; the claim on it ends."""

    async def mark_undeliverable(self, reply_id: str, error: str) -> None:
        """The platform refused a pending reply for good: settle it as ``UNDELIVERABLE``."""

    async def redact(self, inbox_ids: Sequence[str]) -> int:
        """``forget``: blank the text of delivered replies to these items; returns how many."""


class LeaseGrant(StrEnum):
    """What taking a lease found."""

    #: Another holder's lease is live: it hears that someone asked (``LeaseStore.release``).
    REFUSED = "refused"
    #: Nobody held it, or the taker already did.
    FREE = "free"
    #: Another holder's lease had expired: that holder stopped without giving it back (it
    #: crashed or lost the store), maybe in the middle of its work.
    TAKEN_OVER = "taken over"


class LeaseStore(Protocol):
    async def acquire(self, name: str, holder: str, ttl: float) -> bool:
        """Take the lease if free, expired, or already ours (then extend it)."""

    async def take(self, name: str, holder: str, ttl: float) -> LeaseGrant:
        """``acquire``, saying what it found; a refusal is noted on the lease for its holder."""

    async def renew(self, name: str, holder: str, ttl: float) -> bool:
        """Extend a lease we hold; False when it was lost (expired and taken)."""

    async def release(self, name: str, holder: str) -> bool:
        """Give back a lease we hold; True when another holder was refused it meanwhile (it
        has work waiting that the lease kept from it)."""
