"""The records Mnemo keeps: plain frozen data shared by the engine, the stores and the adapters.

Every memory record carries its ``workspace`` and the ``scope`` of the audience it was learned
from (see ``engine.audience``); stores filter on both on every read.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from engine.audience import Audience, Scope

#: Answer tokens asked for when nothing else says: a local model without a limit may
#: generate until its context is full.
DEFAULT_MAX_TOKENS = 1024

type JSON = dict[str, Any]


def new_id() -> str:
    """A random, URL-safe record id."""
    return uuid.uuid4().hex


_seq_lock = threading.Lock()
_seq_state = [0]
#: Tells apart past messages sent in the same microsecond.
_seq_ties = [0]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def next_seq() -> int:
    """A strictly increasing, time-based ordering key (nanoseconds since the epoch).

    Strictly increasing within a process; across processes it orders by wall clock, which is
    what recall ordering needs.
    """
    with _seq_lock:
        now = time.time_ns()
        _seq_state[0] = max(now, _seq_state[0] + 1)
        return _seq_state[0]


def seq_at(when: datetime) -> int:
    """The ordering key of something that happened at ``when`` but is stored only now (a
    channel's past message): among the keys ``next_seq`` gave around that time."""
    micros = (when - _EPOCH) // timedelta(microseconds=1)
    with _seq_lock:
        _seq_ties[0] = (_seq_ties[0] + 1) % 1000
        return micros * 1000 + _seq_ties[0]


def utcnow() -> datetime:
    return datetime.now(UTC)


# ---------------------------------------------------------------------------------------------
# Agents


@dataclass(frozen=True, slots=True)
class ToolRule:
    """A declarative constraint on the order of tool calls (DESIGN §4)."""

    kind: str  # one of engine.tools.rules.KINDS ("init", "terminal", "child", ...)
    tool: str
    children: tuple[str, ...] = ()
    #: For "conditional": tool output -> allowed next tools ("*" matches anything else).
    outcomes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    limit: int = 0


@dataclass(frozen=True, slots=True)
class Agent:
    """A stateful agent: its identity and configuration. Its persona is a block."""

    id: str
    name: str
    model: str
    system_prompt: str
    tools: tuple[str, ...]
    tags: tuple[str, ...] = ()
    tool_rules: tuple[ToolRule, ...] = ()
    #: Names of shared blocks (owner "shared:<name>") this agent sees and edits with its peers.
    shared_blocks: tuple[str, ...] = ()
    #: Token budget of one LLM request (prompt, tools and the room left for the answer).
    context_budget: int = 16_000
    #: What to do when the window is over budget: "summarize" (LLM) or "truncate".
    overflow: str = "summarize"
    max_steps: int = 8
    #: The most tokens one answer of the model may take (sent as ``max_tokens``).
    max_tokens: int = DEFAULT_MAX_TOKENS
    #: The model's context window in tokens, when its server does not say: the context
    #: budget is never larger.
    context_window: int | None = None
    created_at: datetime = field(default_factory=utcnow)
    version: int = 1


# ---------------------------------------------------------------------------------------------
# Core memory


class BlockLabel(StrEnum):
    PERSONA = "persona"
    HUMAN = "human"
    CHANNEL = "channel"


@dataclass(frozen=True, slots=True)
class Block:
    """One scoped part of a labelled core-memory block.

    What an agent sees as its ``human`` block for user U is every part with label ``human`` and
    subject U whose scope the audience may read, rendered general to specific. Edits only ever
    touch the part stored under the turn's write scope.
    """

    id: str
    owner: str  # agent id, or ``shared_owner(name)`` for a block attached to several agents
    workspace: str  # "" (ALL_WORKSPACES) for agent-wide parts such as the base persona
    label: str
    subject: str  # user id for "human", channel id for "channel", "" otherwise
    scope: Scope
    value: str
    limit: int
    version: int = 1
    updated_at: datetime = field(default_factory=utcnow)


def shared_owner(name: str) -> str:
    """The ``Block.owner`` of the shared block ``name``, which several agents see and edit."""
    return f"shared:{name}"


# ---------------------------------------------------------------------------------------------
# Recall


class Role(StrEnum):
    USER = "user"
    ASSISTANT = "assistant"
    TOOL = "tool"
    SYSTEM = "system"


@dataclass(frozen=True, slots=True)
class ToolCall:
    id: str
    name: str
    arguments: str  # raw JSON text, exactly as the model produced it


@dataclass(frozen=True, slots=True)
class ConversationKey:
    """One conversation: an agent in a channel (and thread) of a workspace."""

    agent_id: str
    workspace: str
    channel: str
    thread: str = ""

    def __str__(self) -> str:
        return f"{self.agent_id}/{self.workspace}/{self.channel}/{self.thread}"


class _ConversationFields(Protocol):
    @property
    def agent_id(self) -> str: ...
    @property
    def workspace(self) -> str: ...
    @property
    def channel(self) -> str: ...
    @property
    def thread(self) -> str: ...


class InConversation:
    """A record that belongs to one conversation: it names the agent, workspace, channel and
    thread, and ``conversation`` is their key."""

    __slots__ = ()

    @property
    def conversation(self: _ConversationFields) -> ConversationKey:
        return ConversationKey(self.agent_id, self.workspace, self.channel, self.thread)


@dataclass(frozen=True, slots=True)
class Message(InConversation):
    """One message of recall memory; never edited except by the platform (edit/delete events)."""

    id: str
    agent_id: str
    workspace: str
    channel: str
    thread: str
    scope: Scope
    role: Role
    author: str  # user id, agent id, or "" for tool results
    author_name: str
    content: str
    seq: int
    created_at: datetime
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str = ""
    #: The platform's id of the message (Slack ts, Discord snowflake), for edits and deletions.
    platform_ref: str = ""
    turn_id: str = ""


@dataclass(frozen=True, slots=True)
class Summary(InConversation):
    """The recursive summary of a conversation's messages evicted from the context window."""

    agent_id: str
    workspace: str
    channel: str
    thread: str
    scope: Scope
    text: str
    #: Every message with ``seq <= through_seq`` is folded into ``text``.
    through_seq: int
    version: int = 1
    updated_at: datetime = field(default_factory=utcnow)


# ---------------------------------------------------------------------------------------------
# Archival


@dataclass(frozen=True, slots=True)
class Passage:
    """A fact an agent or a job chose to keep, searchable by meaning."""

    id: str
    agent_id: str
    workspace: str
    scope: Scope
    text: str
    tags: tuple[str, ...] = ()
    #: Users the passage is about or was learned from, so ``forget`` finds it.
    users: tuple[str, ...] = ()
    created_at: datetime = field(default_factory=utcnow)
    embedding: tuple[float, ...] | None = None


# ---------------------------------------------------------------------------------------------
# Inbound and outbound traffic


class InboundKind(StrEnum):
    MESSAGE = "message"
    EDIT = "edit"
    DELETE = "delete"


@dataclass(frozen=True, slots=True)
class Author:
    id: str
    name: str
    is_agent: bool = False
    is_bot: bool = False


@dataclass(frozen=True, slots=True)
class Inbound(InConversation):
    """A platform event, translated by an adapter, for the engine."""

    platform: str
    agent_id: str
    audience: Audience
    thread: str
    author: Author
    text: str
    #: The platform's id of the event (Slack event_id, Discord message id + kind).
    event_id: str
    #: The platform's id of the message itself; (channel, message_ref) dedupes one message
    #: delivered through two event types.
    message_ref: str
    sent_at: datetime
    kind: InboundKind = InboundKind.MESSAGE
    #: Whether the agent is expected to answer (a DM, a mention, an open channel); when False
    #: the message is only remembered ("listen" policy).
    respond: bool = True
    mentions: tuple[str, ...] = ()
    #: Agent-to-agent: the hop count of the thread this message continues.
    hops: int = 0
    attachments: tuple[str, ...] = ()
    #: How people call the channel ("#general"), for the agent's prompt; the id is in audience.
    channel_name: str = ""
    #: Said before the bot heard the conversation (a channel's history read later): kept in
    #: recall at its place in time, by ``sent_at``, rather than after what is already there.
    past: bool = False

    @property
    def workspace(self) -> str:
        return self.audience.workspace

    @property
    def channel(self) -> str:
        return self.audience.channel


@dataclass(frozen=True, slots=True)
class Outbound(InConversation):
    """A reply the engine decided on, kept in the outbox until the platform has it."""

    id: str
    inbox_id: str
    platform: str
    agent_id: str
    workspace: str
    channel: str
    thread: str
    text: str
    #: The platform message this answers (for Discord references and Slack threads).
    reply_to: str = ""
    #: Position of this reply among the replies of one turn.
    index: int = 0
    created_at: datetime = field(default_factory=utcnow)
