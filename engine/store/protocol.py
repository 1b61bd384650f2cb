"""The narrow, typed storage contract the engine talks to (DESIGN §5).

Two implementations keep it: SQLite (embedded default) and MongoDB (production). One contract
test suite (``tests/contract``) runs unchanged against both. Every memory read takes a
``RecordFilter`` built from the turn's audience, so no method can return a record the audience
is not entitled to.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from engine.audience import Audience, Scope
from engine.records import (
    JSON,
    Agent,
    Block,
    ConversationKey,
    Message,
    Passage,
    Summary,
)
from engine.store.approvals import ApprovalStore
from engine.store.block_selection import BlockSelection
from engine.store.feedback import FeedbackStore
from engine.store.lineage import LineageStore, Link
from engine.store.queues import InboxStore, LeaseStore, OutboxStore, TurnStore
from engine.store.sources import SourceStore
from engine.store.state import (
    DeliveryLedgerStore,
    JobStateStore,
    MailStore,
    ToolRegistryStore,
    TurnJournalStore,
)


@dataclass(frozen=True, slots=True)
class RecordFilter:
    """What one read may see: one agent, one workspace, the audience's readable scopes."""

    agent_id: str
    workspace: str
    scopes: tuple[Scope, ...]
    start: datetime | None = None
    end: datetime | None = None
    #: Restrict to one channel (recall browsing); None searches the whole visible memory.
    channel: str | None = None
    #: Restrict to these tags (archival); a passage matches when it has any of them.
    tags: tuple[str, ...] = ()
    #: Restrict to records about one user: messages they wrote, passages whose ``users``
    #: contain them (user data reports and exports).
    user: str | None = None

    @classmethod
    def for_audience(cls, agent_id: str, audience: Audience) -> RecordFilter:
        return cls(agent_id, audience.workspace, audience.readable_scopes)


@dataclass(frozen=True, slots=True)
class Scored[T]:
    record: T
    score: float


@dataclass(frozen=True, slots=True)
class ConversationActivity:
    """A conversation's messages inside a time window (background jobs find work by this)."""

    conversation: ConversationKey
    scope: Scope
    #: Messages created inside the window.
    messages: int
    last_seq: int
    last_at: datetime


class AgentStore(Protocol):
    async def put(self, agent: Agent) -> None:
        """Create the agent, or replace it when one with this id exists."""

    async def get(self, agent_id: str) -> Agent | None: ...
    async def by_name(self, name: str) -> Agent | None: ...
    async def list(self) -> list[Agent]: ...
    async def delete(self, agent_id: str) -> bool: ...


class BlockStore(Protocol):
    """Scoped core-memory parts. Backends subclass it and answer ``select``; ``visible``
    reads a turn's request into a ``BlockSelection`` once for both."""

    async def visible(
        self,
        owners: Sequence[str],
        workspace: str,
        scopes: Sequence[Scope],
        keys: Sequence[tuple[str, str]] | None = None,
    ) -> list[Block]:
        """Parts owned by ``owners`` in ``workspace`` (or all workspaces) under ``scopes``.

        ``keys`` restricts to (label, subject) pairs. Ordered by label, subject, then creation.
        """
        selection = BlockSelection.of(owners, workspace, scopes, keys)
        return [] if selection.matches_nothing else await self.select(selection)

    async def select(self, selection: BlockSelection) -> list[Block]:
        """The parts ``selection`` names, in ``visible``'s order."""

    async def create(self, block: Block) -> Block:
        """Insert a part; when one with the same owner, workspace, label, subject and scope
        exists, return that one unchanged instead (so racing creators agree)."""

    async def update(
        self, block_id: str, expected_version: int, value: str, links: Sequence[Link] = ()
    ) -> Block | None:
        """Compare-and-set: write ``value`` only if the stored version is ``expected_version``,
        with the lineage ``links`` of its new lines, so no edit is ever stored without them
        (SQLite: in the same transaction; MongoDB: the links first, which stay harmless if the
        edit loses its race).

        Returns the new part (version + 1), or None when another writer got there first.
        """

    async def get(self, block_id: str) -> Block | None: ...

    async def list(self, owner: str, workspace: str | None = None) -> list[Block]:
        """Every part an owner has (operator and inspector views; no audience filter)."""

    async def delete(self, block_id: str) -> bool: ...

    async def delete_user(self, workspace: str, user: str) -> int:
        """Remove ``human`` parts about ``user`` and every part learned in a DM with them."""


class MemoryReads[T](Protocol):
    """The audience-filtered reads recall (messages) and archival (passages) memory share."""

    async def search_text(self, where: RecordFilter, query: str, limit: int) -> list[Scored[T]]:
        """Full-text search (FTS5 / $text); higher score is better."""

    async def search_vector(
        self, where: RecordFilter, vector: Sequence[float], limit: int
    ) -> list[Scored[T]]:
        """Nearest records by cosine similarity among those that carry an embedding
        ($vectorSearch on MongoDB)."""

    async def count(self, where: RecordFilter) -> int: ...


class MessageStore(MemoryReads[Message], Protocol):
    async def append(self, messages: Sequence[Message], links: Sequence[Link] = ()) -> None:
        """Store messages (a message whose id is already stored is left as it is) and the
        lineage of what their turn derived, in one write where the store can."""

    async def recent(
        self, conversation: ConversationKey, after_seq: int, limit: int
    ) -> list[Message]:
        """The newest ``limit`` messages of a conversation with ``seq > after_seq``, oldest
        first. Cost must not grow with the length of the history."""

    async def between(
        self, conversation: ConversationKey, after_seq: int, through_seq: int
    ) -> list[Message]:
        """Messages with ``after_seq < seq <= through_seq``, oldest first (for summaries)."""

    async def around(
        self, conversation: ConversationKey, seq: int, limit: int
    ) -> builtins.list[Message]:
        """The ``limit`` messages of a conversation before ``seq`` and the ``limit`` from
        ``seq`` on, oldest first (what followed a forgotten message, and the turn before it)."""

    async def set_embeddings(self, embeddings: Sequence[tuple[str, Sequence[float]]]) -> None:
        """Attach embeddings to stored messages (by message id)."""

    async def list(
        self, where: RecordFilter, limit: int, before_seq: int | None = None
    ) -> list[Message]:
        """Browse visible messages newest first."""

    async def edit(self, workspace: str, channel: str, platform_ref: str, content: str) -> int:
        """Apply a platform edit to every stored copy of that message (one per agent)."""

    async def delete_ref(self, workspace: str, channel: str, platform_ref: str) -> int:
        """Apply a platform deletion."""

    async def delete_user(self, workspace: str, user: str) -> int:
        """Remove messages written by ``user`` and every message of DMs with them."""

    async def ids_of_user(self, workspace: str, user: str) -> builtins.list[str]:
        """Ids of the messages ``delete_user`` would remove (what was derived from them is
        found by these ids)."""

    async def ids_of_ref(
        self, workspace: str, channel: str, platform_ref: str
    ) -> builtins.list[str]:
        """Ids of every stored copy of one platform message (one per agent)."""

    async def by_ids(self, message_ids: Sequence[str]) -> builtins.list[Message]:
        """The stored messages among ``message_ids`` (no audience filter: the caller checks
        each message's scope before showing it), in no particular order."""

    async def redact(self, message_ids: Sequence[str]) -> dict[str, str]:
        """Replace the text and tool-call arguments of these messages by ``REDACTED`` and drop
        their embeddings (search indexes follow); the messages stay in their conversation.
        Returns the ``turn_id`` of each message redacted (its replies are copies too)."""

    async def delete_before(self, workspace: str, before: datetime) -> int:
        """Retention: remove the workspace's messages older than ``before``."""

    async def conversations_since(
        self, after: datetime, before: datetime | None = None
    ) -> builtins.list[ConversationActivity]:
        """Conversations with messages created in ``after < created_at < before``, each
        with how many and its newest one in that window (no audience filter: jobs only)."""


class PassageStore(MemoryReads[Passage], Protocol):
    async def insert(self, passages: Sequence[Passage]) -> None: ...

    async def list(self, where: RecordFilter, limit: int, offset: int = 0) -> list[Passage]:
        """Browse visible passages newest first."""

    async def tag_counts(self, where: RecordFilter) -> dict[str, int]: ...

    async def get(self, passage_id: str) -> Passage | None: ...

    async def delete(self, passage_ids: Sequence[str]) -> int: ...

    async def delete_user(self, workspace: str, user: str) -> int:
        """Remove passages about ``user`` and every passage learned in a DM with them."""

    async def ids_of_user(self, workspace: str, user: str) -> builtins.list[str]:
        """Ids of the passages ``delete_user`` would remove."""


class SummaryStore(Protocol):
    async def get(self, conversation: ConversationKey) -> Summary | None: ...

    async def put(self, summary: Summary, expected_version: int) -> bool:
        """Compare-and-set; ``expected_version`` 0 creates. False when another writer won."""

    async def delete_user(self, workspace: str, user: str) -> int:
        """Remove summaries of DMs with ``user``."""


@dataclass(frozen=True, slots=True)
class ContextQuery:
    """What compiling a turn's context asks of the store: the parts ``blocks`` selects, the
    conversation's summary and newest ``limit`` messages, the counts ``where`` sees."""

    blocks: BlockSelection
    where: RecordFilter
    conversation: ConversationKey
    limit: int


@dataclass(frozen=True, slots=True)
class ContextRead:
    """What compiling a turn's context reads from the store."""

    blocks: list[Block]
    summary: Summary | None
    #: The conversation's newest messages after its summary, oldest first
    #: (``MessageStore.recent`` after the summary's ``through_seq``).
    recent: list[Message]
    #: What the turn's filter sees of recall and archival memory.
    messages: int
    passages: int
    tags: dict[str, int]


class ContextStore(Protocol):
    async def read(self, query: ContextQuery) -> ContextRead:
        """What ``query`` asks (blocks as ``BlockStore.select`` reads them, counts of
        messages, passages and passage tags), in one round trip where the store can."""


class KeyValueStore(Protocol):
    """Small settings by namespace and key (Slack installations, OAuth state, retention
    policies); records with a shape of their own have a store of their own."""

    async def get(self, namespace: str, key: str) -> JSON | None: ...
    async def put(self, namespace: str, key: str, value: JSON) -> None: ...
    async def delete(self, namespace: str, key: str) -> bool: ...
    async def list(self, namespace: str, prefix: str = "") -> list[tuple[str, JSON]]: ...


class Store(Protocol):
    agents: AgentStore
    blocks: BlockStore
    messages: MessageStore
    passages: PassageStore
    summaries: SummaryStore
    inbox: InboxStore
    outbox: OutboxStore
    leases: LeaseStore
    journal: TurnJournalStore
    turns: TurnStore
    context: ContextStore
    mail: MailStore
    tools: ToolRegistryStore
    jobs: JobStateStore
    deliveries: DeliveryLedgerStore
    feedback: FeedbackStore
    approvals: ApprovalStore
    kv: KeyValueStore
    lineage: LineageStore
    sources: SourceStore

    async def settle_forget(self) -> None:
        """After a forget: leave no deleted text in the store's files (SQLite merges its
        full-text indexes, drops emptied counts and checkpoints its log; MongoDB has nothing
        to do, its documents are deleted)."""

    async def setup(self) -> None:
        """Create tables or collections and indexes; idempotent, safe at every start."""

    async def ping(self) -> None:
        """Raise when the store cannot be reached (readiness)."""

    async def close(self) -> None: ...
