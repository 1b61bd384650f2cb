"""What the engine needs from a platform adapter, and what it promises back.

Adapters implement ``PlatformPort``; they hand ``Inbound`` messages to the ``IntakePort`` and
call the user-control methods (``about_user``, ``forget_user``, ``export_user``). Nothing else of
the engine is theirs to touch.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from engine.audience import Audience, Scope
from engine.records import JSON, Inbound, Outbound
from engine.store.feedback import Feedback, Rating
from engine.store.lineage import Derived

if TYPE_CHECKING:
    from engine.approvals import PressedIn


class DeliveryError(Exception):
    """A platform refused or failed a delivery.

    ``permanent`` errors (channel gone, bot removed) are not retried; others are, after
    ``retry_after`` seconds when the platform said so, else with backoff.
    """

    def __init__(
        self, message: str, *, permanent: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after


class PlatformPort(Protocol):
    """One platform's delivery side, registered with the engine by the composition root."""

    @property
    def platform(self) -> str:
        """The ``Inbound.platform`` / ``Outbound.platform`` value this port serves."""

    async def deliver(self, reply: Outbound) -> str:
        """Post one reply (splitting it to the platform's limits); return the platform's id of
        the (first) posted message. Raise ``DeliveryError`` on failure.

        The same reply may be delivered again after a crash between the platform's answer and
        the outbox's mark; ``reply.id`` is stable across those attempts, so pass it (or a digest
        of it and the chunk's position) as the platform's idempotency key (Discord ``nonce``
        with ``enforce_nonce``, Slack ``client_msg_id``) and the user sees the reply once."""

    def working(self, inbound: Inbound) -> AbstractAsyncContextManager[None]:
        """Show that the agent is working (typing, assistant status) while a turn runs."""


@runtime_checkable
class StepPort(Protocol):
    """A platform port that shows what the agent is doing while a turn runs, step by step
    ("searching memory…"), where its platform has a place for it (Slack's assistant status)."""

    async def show_step(self, inbound: Inbound, status: str) -> None:
        """Show ``status`` to the people ``inbound`` came from; never raises."""


class ReplyStream(Protocol):
    """One reply being written into a platform message while the model writes it."""

    @property
    def interval(self) -> float:
        """Seconds the platform wants between two appends (its edit rate limit); text that
        arrives meanwhile is sent together."""

    async def append(self, text: str) -> None:
        """Show ``text`` after what the message shows so far; raise on failure (the stream is
        then left as it is, and ``deliver`` completes the message)."""

    async def finish(self) -> None:
        """The model finished the reply: end the stream (the message shows all of it)."""

    async def withdraw(self) -> None:
        """The reply was not sent after all (a refused call): take the message back."""


@runtime_checkable
class StreamingPort(Protocol):
    """A platform port that can show a reply while the model writes it.

    The message a stream writes into is the reply's delivery: ``open_stream`` records it as the
    reply's first posted part as soon as the platform names it, and ``deliver`` of the same
    reply (after the turn, or after a crash and a new turn) completes that message to the
    reply's final text instead of posting another, so the user sees one reply.
    """

    @property
    def platform(self) -> str: ...

    async def open_stream(self, reply: Outbound, answering: Inbound) -> ReplyStream | None:
        """Start the message ``reply`` (whose text is still empty) will be written into, as an
        answer to ``answering``; None where this conversation cannot stream (the reply is then
        posted whole). Raise on failure: the reply is then posted whole as well."""


@runtime_checkable
class LinkPort(Protocol):
    """Where a remembered message can be opened, and what its channel is called: what a
    citation shows. A platform port implements it when its platform has links to messages.

    Workspace ids begin with their platform's name (``slack:T1``, ``discord:42``), which is how
    the engine finds the port of a stored message. Both methods answer quickly (a cache, a
    short timeout) and never raise: None when the platform does not say.
    """

    @property
    def platform(self) -> str: ...

    async def permalink(
        self, workspace: str, channel: str, platform_ref: str, thread: str = ""
    ) -> str | None:
        """A link that opens the message ``platform_ref`` of ``channel`` (in ``thread``, the
        conversation's thread id, when it is in one)."""

    async def channel_name(self, workspace: str, channel: str) -> str | None:
        """How people call ``channel`` ("#design")."""


class ReceiveOutcome(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    #: Refused by the engine's admission (nothing to remember, unknown agent ...).
    REJECTED = "rejected"
    #: Not for the agent: an adapter's intake chain let it pass by; the engine never saw it.
    IGNORED = "ignored"


@dataclass(frozen=True, slots=True)
class ReceiveResult:
    outcome: ReceiveOutcome
    inbox_id: str = ""
    reason: str = ""


class IntakePort(Protocol):
    """The engine's intake, the one door every adapter hands messages through."""

    async def receive(self, inbound: Inbound) -> ReceiveResult:
        """Store the message in the inbox (or say why not) and return at once."""

    async def reject(self, platform: str, raw: JSON, error: str) -> None:
        """Keep an event the adapter could not parse, with its error, for the operator."""


@dataclass(frozen=True, slots=True)
class UserMemoryReport:
    """What Mnemo keeps about one user of one workspace, as shown to that user only."""

    workspace: str
    user: str
    #: Core-memory parts about the user or learned in DMs with them: (label, scope, text).
    blocks: tuple[tuple[str, Scope, str], ...]
    passages: tuple[str, ...]
    messages: int


@dataclass(frozen=True, slots=True)
class Source:
    """One message a memory came from, as a citation shows it."""

    message_id: str
    author: str
    said_at: datetime
    #: How people call the channel ("#design", "direct messages"), else its id.
    channel: str
    text: str
    link: str | None = None


@dataclass(frozen=True, slots=True)
class MemoryItem:
    """One block line or archival passage, with where it came from."""

    kind: Derived
    record_id: str
    #: The block's label ("human", "channel", ...) or "archival".
    label: str
    text: str
    sources: tuple[Source, ...] = ()
    #: The audience it was learned from (who may read it); None when not known.
    scope: Scope | None = None

    @property
    def key(self) -> str:
        """How a user names this item to forget it (``forget_item``)."""
        return f"{self.kind.value}:{self.record_id}"


@dataclass(frozen=True, slots=True)
class PlatformMessage:
    """A message a user points at on their platform ("Remember this", "Forget this")."""

    #: Where it was said: the workspace and conversation channel its recall copies are under.
    workspace: str
    channel: str
    #: The platform's id of the message.
    ref: str
    author: str
    author_name: str
    text: str
    sent_at: datetime

    @property
    def source(self) -> str:
        """The lineage source standing for this message, stored in recall or not."""
        return f"message:{self.workspace}:{self.channel}:{self.ref}"


@dataclass(frozen=True, slots=True)
class ForgetReport:
    """What a forget removed, counted per kind of record, as shown to the person who asked."""

    #: Messages deleted: theirs, their DMs', or the one a platform deleted.
    messages: int = 0
    #: The agent's own messages that quoted them, redacted in place.
    redacted_messages: int = 0
    #: Core-memory parts deleted whole (their ``human`` parts, their DMs' parts).
    blocks: int = 0
    #: Lines removed from other core-memory parts because they came from the forgotten words.
    block_lines: int = 0
    passages: int = 0
    digests: int = 0
    #: Conversation summaries dropped (refolded from what remains).
    summaries: int = 0
    mail: int = 0
    #: Received copies (inbox) and sent replies (outbox) redacted.
    inbox: int = 0
    outbox: int = 0
    #: The jobs' run records, targets and checkpoints of their DMs.
    job_records: int = 0
    #: Knowledge-source documents removed whole (shared by the person, or taught in their DMs).
    documents: int = 0
    #: Their ratings of the agent's replies, and the tool calls they asked to have approved.
    ratings: int = 0
    approvals: int = 0
    #: What a platform adapter kept about them outside memory (Slack assistant threads' records).
    platform_records: int = 0

    @property
    def total(self) -> int:
        return sum(getattr(self, name) for name in self.__slots__)


class FeedbackPort(Protocol):
    """What an adapter calls when someone presses a feedback button on a reply."""

    async def rate(
        self, where: PressedIn, user: str, turn_id: str, reply_id: str, rating: Rating
    ) -> Feedback | None:
        """Keep ``user``'s rating of the reply ``reply_id`` of the turn ``turn_id``, pressed
        ``where``; None (nothing kept) when no such reply is kept any more, the press came
        from outside the reply's conversation, or ``user`` does not see it (another's DM)."""


class UserMemory(Protocol):
    """User control over their own memory (``/mnemo memory|forget|export|why``, ``/memory`` ...)."""

    async def about_user(self, workspace: str, user: str) -> UserMemoryReport: ...

    async def forget_user(self, workspace: str, user: str) -> ForgetReport:
        """Delete everything kept about the user and everything derived from their words."""

    async def export_user(self, workspace: str, user: str) -> bytes:
        """A JSON document with everything kept about the user."""

    async def memory_items(self, workspace: str, user: str) -> list[MemoryItem]:
        """The block lines and passages about ``user``: each can be forgotten on its own."""

    async def forget_item(self, workspace: str, user: str, key: str) -> ForgetReport:
        """Forget the item ``key`` of ``memory_items`` and what was derived from it; an empty
        report (nothing removed) when it is not one of the user's items."""

    async def why(self, audience: Audience, words: str) -> list[MemoryItem]:
        """The memories matching ``words`` that ``audience`` may read, each with its sources
        that ``audience`` may read."""

    async def edit_item(self, workspace: str, user: str, key: str, text: str) -> MemoryItem | None:
        """Replace the text of the user's item ``key``, keeping where it came from; None when
        it is not one of the user's items (any more)."""

    async def remember_message(
        self, agent_id: str, audience: Audience, message: PlatformMessage, asked_by: str
    ) -> bool:
        """Keep ``message`` in ``agent_id``'s archival memory, readable by ``audience`` only;
        False when it is kept there already."""

    async def forget_message(self, message: PlatformMessage, user: str) -> ForgetReport | None:
        """Forget ``message`` and everything derived from it, when ``user`` wrote it; None
        (nothing removed) when someone else did."""
