"""Durable state beside memory, typed: what the pipeline, agent mail, the tool registry, the
jobs and the platforms' delivery ledgers keep between turns and restarts, and their stores.

Every record is stored through the codec; each store is part of
``engine.store.protocol.Store`` and covered by the contract suite on both backends. Where two
writers can race, the store decides by compare-and-set, so both see the same winner.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from engine.audience import Audience, Scope
from engine.records import Message, Outbound
from engine.store.lineage import Derivation

if TYPE_CHECKING:
    from engine.tools.custom._custom import CustomTool


class TurnOutcome(StrEnum):
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """Everything applying a turn writes: recall messages, replies, lineage links, and the items
    it closes.

    Kept under the batch's first inbox item (``head``) before it is applied, so a retry after a
    crash re-applies the same outcome instead of running the turn again.
    """

    head: str
    items: tuple[str, ...]
    outcome: TurnOutcome
    messages: tuple[Message, ...]
    replies: tuple[Outbound, ...]
    error: str = ""
    links: tuple[Derivation, ...] = ()


class MailMode(StrEnum):
    #: A request whose sender waits for the reply (it still arrives as a message if the wait ends).
    WAIT = "wait"
    #: A request whose reply arrives as a message in the sender's conversation.
    ASYNC = "async"
    #: A message that continues an agent-to-agent conversation.
    MESSAGE = "message"


@dataclass(frozen=True, slots=True)
class Origin:
    """Where the sender was when it asked: its reply comes back there."""

    platform: str
    thread: str
    channel_name: str


@dataclass(frozen=True, slots=True)
class MailRecord:
    """One agent-to-agent message, kept so its replies can be routed and counted."""

    id: str
    sender: str
    sender_name: str
    recipient: str
    audience: Audience
    hops: int
    mode: MailMode
    origin: Origin | None = None
    #: The reply handed to the sender's waiting call ("" while none was).
    answered_by: str = ""


class RunStatus(StrEnum):
    RUNNING = "running"
    OK = "ok"
    #: Stopped at the token budget; the next slot goes on from the saved checkpoint.
    OVER_BUDGET = "over_budget"
    FAILED = "failed"
    #: Its process died while it ran; the lease expired and another run took over.
    CRASHED = "crashed"


#: Outcomes that settle a target for its cadence slot.
SETTLED = frozenset({RunStatus.OK, RunStatus.OVER_BUDGET})


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One run of a job on one target (a conversation, a channel's day, a workspace)."""

    id: str
    job: str
    target: str
    workspace: str
    #: The scope of the memory the run read (None: a whole workspace).
    scope: Scope | None
    holder: str
    attempt: int
    started_at: datetime
    status: RunStatus = RunStatus.RUNNING
    ended_at: datetime | None = None
    tokens: int = 0
    detail: str = ""
    error: str = ""

    @property
    def key(self) -> str:
        """Unique, and in start order within a job."""
        micros = int(self.started_at.timestamp() * 1_000_000)
        return f"{self.job}/{micros:020d}-{self.id}"


@dataclass(frozen=True, slots=True)
class TargetState:
    """The last run of a (job, target): which cadence slot, how it ended, how often tried."""

    slot: int
    status: RunStatus
    attempts: int
    #: The ``RunRecord.key`` of that run; what a compare-and-set of the state compares.
    run_key: str
    workspace: str
    scope: Scope | None
    retry_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class JobBackoff:
    """The wait a whole job observes after the model failed ``failures`` times running."""

    failures: int
    retry_at: datetime


@dataclass(frozen=True, slots=True)
class JobCheckpoint:
    """How far a job got on one target: the last message seq, or the time, it went through."""

    workspace: str
    scope: Scope
    seq: int = 0
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class DeliveryLedger:
    """The platform messages one reply was posted as, so a retried delivery posts no part twice."""

    reply_id: str
    platform: str
    channel: str
    #: Platform ids of the parts posted so far, in order.
    posted: tuple[str, ...]
    #: When the reply was created; entries are pruned by it.
    created_at: datetime


class TurnJournalStore(Protocol):
    """Turn outcomes, written before they are applied so each is applied once.

    A crash after the model answered must neither run the turn again (a second, different
    answer) nor lose it. The worker journals the outcome under the batch's first inbox item
    (the oldest pending item of the conversation, so it stays first until the batch is
    applied), then applies it with idempotent writes; a retry that finds a journal re-applies
    it instead of re-running.
    """

    async def record(self, entry: JournalEntry) -> JournalEntry:
        """Insert ``entry`` unless its batch has one already: returns the one that counts
        (racing writers all get the first)."""

    async def find(self, head: str) -> JournalEntry | None: ...

    async def forget(self, heads: Sequence[str]) -> None:
        """Drop the entries of batches that were applied."""


class MailStore(Protocol):
    """Agent-to-agent messages, by id, so their replies can be routed."""

    async def put(self, record: MailRecord) -> None:
        """Store a message; one whose id is stored already is left as it is."""

    async def get(self, message_id: str) -> MailRecord | None: ...

    async def answer(self, message_id: str, reply_id: str) -> MailRecord | None:
        """Compare-and-set: make ``reply_id`` the message's answer unless it has one.

        Returns the stored message (its ``answered_by`` says which reply won), or None when
        there is no such message.
        """

    async def delete_user(self, workspace: str, user: str) -> int:
        """Remove messages sent on behalf of a DM with ``user``."""

    async def delete(self, message_ids: Sequence[str]) -> int:
        """Remove these messages (their text was derived from forgotten words)."""


class ToolRegistryStore(Protocol):
    """Custom tools by name, versioned so concurrent registrations never silently collide."""

    async def get(self, name: str) -> CustomTool | None: ...

    async def list(self) -> builtins.list[CustomTool]:
        """Every tool, by name."""

    async def put(self, tool: CustomTool, expected_version: int) -> CustomTool | None:
        """Compare-and-set: store ``tool`` if the stored version is ``expected_version``
        (0: none stored). Returns it at version + 1, or None when another writer won."""

    async def delete(self, name: str) -> bool: ...


class JobStateStore(Protocol):
    """What the jobs did and where they are: run records, target states, backoffs and
    checkpoints, shared by every replica."""

    async def save_run(self, record: RunRecord) -> None:
        """Store a run record, replacing the one with the same ``key``."""

    async def run(self, key: str) -> RunRecord | None: ...

    async def runs(self, job: str | None, limit: int) -> builtins.list[RunRecord]:
        """Recorded runs (of one job, or all), newest first."""

    async def prune(self, job: str, keep: int) -> int:
        """Drop a job's oldest run records beyond the newest ``keep``."""

    async def state(self, job: str, target: str) -> TargetState | None: ...

    async def put_state(
        self, job: str, target: str, state: TargetState, expected_run: str | None
    ) -> bool:
        """Compare-and-set: store ``state`` if the stored state's ``run_key`` is
        ``expected_run`` (None: no state stored). False when another run got there first."""

    async def backoff(self, job: str) -> JobBackoff | None: ...
    async def set_backoff(self, job: str, backoff: JobBackoff) -> None: ...
    async def clear_backoff(self, job: str) -> None: ...

    async def checkpoint(self, job: str, key: str) -> JobCheckpoint | None: ...
    async def save_checkpoint(self, job: str, key: str, checkpoint: JobCheckpoint) -> None: ...

    async def forget_user(self, workspace: str, user: str) -> int:
        """Remove run records, target states and checkpoints of a DM with ``user``."""


class DeliveryLedgerStore(Protocol):
    """Which platform messages each reply was posted as (platform ports' idempotency)."""

    async def get(self, reply_id: str) -> DeliveryLedger | None: ...

    async def put(self, ledger: DeliveryLedger) -> None:
        """Store a reply's ledger, replacing the one it had."""

    async def prune(self, before: datetime) -> int:
        """Drop ledgers of replies created before ``before``."""
