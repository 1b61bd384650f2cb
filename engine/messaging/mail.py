"""Agent-to-agent messages through the durable pipeline, and the "agents" platform that carries
their replies back.

A message from agent A to agent B is an ``Inbound`` on platform ``agents`` in B's conversation
``(B, workspace, channel of A's turn, thread "agent:<A id>[:<A's thread>]")``. It carries the
audience of A's turn, so B reads and writes only memory that audience may see: a question asked
in a DM with U never shows B anything U could not see, and B's notes land in U's private scope.

B's reply is delivered by ``AgentsPort``: to A's waiting tool call when one is waiting in this
process, otherwise as a message from B into the conversation A asked from, so a reply is never
lost when a wait times out or the asking process is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from engine.messaging.guard import TrafficGuard
from engine.ports import DeliveryError, ReceiveOutcome, ReceiveResult
from engine.records import Agent, Author, Inbound, Outbound, new_id, utcnow
from engine.store.lineage import Derived, LineageStore, links
from engine.store.protocol import AgentStore
from engine.store.state import MailMode, MailRecord, MailStore, Origin

log = logging.getLogger(__name__)

PLATFORM = "agents"
THREAD_PREFIX = "agent:"

type Receive = Callable[[Inbound], Awaitable[ReceiveResult]]


class MessagingRefused(Exception):
    """A message that may not be sent; the text says why, for the agent."""


def agent_thread(sender_id: str, origin_thread: str = "") -> str:
    """The thread, in the recipient's conversations, of messages from ``sender_id``."""
    suffix = f":{origin_thread}" if origin_thread else ""
    return f"{THREAD_PREFIX}{sender_id}{suffix}"


def thread_peer(thread: str) -> tuple[str, str]:
    """``agent_thread``'s inverse: (the other agent's id, the thread it asked from)."""
    if not thread.startswith(THREAD_PREFIX):
        raise ValueError(f"{thread!r} is not an agent-to-agent thread")
    peer, _, origin_thread = thread.removeprefix(THREAD_PREFIX).partition(":")
    return peer, origin_thread


@dataclass(frozen=True, slots=True)
class MailSent:
    """A message queued for another agent: its mail record, and its copy in the recipient's
    recall (the inbox item it became; "" when it was a repeat)."""

    id: str
    copy: str


class AgentMail:
    """Sends agent-to-agent messages into the engine and routes their replies."""

    def __init__(
        self, agents: AgentStore, mail: MailStore, lineage: LineageStore, policy: TrafficGuard
    ) -> None:
        self._agents = agents
        self._mail = mail
        self._lineage = lineage
        self.policy = policy
        self._receive: Receive | None = None
        self._waiting: dict[str, asyncio.Future[str]] = {}
        self.port = AgentsPort(self)

    def connect(self, receive: Receive) -> None:
        """Hand messages to this engine's ``receive`` (set once the engine exists)."""
        self._receive = receive

    async def send(
        self,
        sender: Agent,
        recipient: Agent,
        text: str,
        *,
        asked_in: Inbound,
        mode: MailMode,
    ) -> MailSent:
        """Queue ``text`` for ``recipient``. Raises ``MessagingRefused``."""
        if recipient.id == sender.id:
            raise MessagingRefused("you cannot message yourself")
        hops = asked_in.hops + 1
        thread = agent_thread(sender.id, asked_in.thread)
        verdict = self.policy.check(sender.id, recipient.id, thread, hops, text)
        if not verdict.allowed:
            raise MessagingRefused(f"message to {recipient.name} not sent: {verdict.reason}")
        record = MailRecord(
            id=new_id(),
            sender=sender.id,
            sender_name=sender.name,
            recipient=recipient.id,
            audience=asked_in.audience,
            hops=hops,
            mode=mode,
            origin=Origin(asked_in.platform, asked_in.thread, asked_in.channel_name),
        )
        if mode is MailMode.WAIT:
            self._waiting[record.id] = asyncio.get_running_loop().create_future()
        try:
            copy = await self._deliver_inbound(record, thread, text, respond=True, event=record.id)
        except BaseException:
            self._waiting.pop(record.id, None)
            raise
        return MailSent(record.id, copy)

    async def wait(self, message_id: str, within: float) -> str | None:
        """The first reply to a ``WAIT`` message, or None when none came ``within`` seconds
        (it then arrives later as a message)."""
        future = self._waiting.get(message_id)
        if future is None:
            return None
        try:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(within):
                    await asyncio.shield(future)
        finally:
            # No await between here and the check below: a reply is either taken by this
            # wait or, once the waiter is gone, sent on as a message by ``deliver``.
            self._waiting.pop(message_id, None)
        return future.result() if future.done() else None

    async def deliver(self, reply: Outbound) -> str:
        """Route one reply written in an agent-to-agent conversation."""
        try:
            peer, _ = thread_peer(reply.thread)
        except ValueError as exc:
            raise DeliveryError(str(exc), permanent=True) from None
        answered = await self._mail.get(reply.reply_to) if reply.reply_to else None
        if answered is None:
            raise DeliveryError(f"reply {reply.id} answers no known agent message", permanent=True)
        if answered.answered_by == reply.id:
            # Handed to the sender's waiting call by an earlier delivery of this reply.
            return f"{PLATFORM}:{answered.id}"
        # Left for ``wait`` to take down: the reply may land before the sender's call waits.
        waiter = self._waiting.get(answered.id) if answered.sender == peer else None
        if waiter is not None and not waiter.done():
            waiter.set_result(reply.text)
            # Recorded, so delivering this reply again does not also send it as a message.
            await self._mail.answer(answered.id, reply.id)
            return f"{PLATFORM}:{answered.id}"
        await self._forward(reply, peer, answered)
        return f"{PLATFORM}:{reply.id}"

    async def _forward(self, reply: Outbound, peer: str, answered: MailRecord) -> None:
        """Send a reply on to ``peer`` as a message: into the conversation it asked from when
        this answers its request, else into its conversation with the replying agent."""
        origin = answered.origin
        if answered.sender == peer and answered.mode is not MailMode.MESSAGE and origin:
            platform, thread, channel_name = origin.platform, origin.thread, origin.channel_name
        else:
            platform, channel_name = PLATFORM, ""
            thread = agent_thread(reply.agent_id, thread_peer(reply.thread)[1])
        hops = answered.hops + 1
        # The reply is delivered whatever the policy says; it decides whether ``peer`` may
        # answer it, which would add message number ``hops + 1``.
        verdict = self.policy.check(reply.agent_id, peer, thread, hops + 1, reply.text)
        if not verdict.allowed:
            # Kept in the peer's memory, never answered: the exchange stops here.
            log.info("agent %s -> %s: %s", reply.agent_id, peer, verdict.reason)
        sender = await self._agents.get(reply.agent_id)
        record = MailRecord(
            id=f"m-{reply.id}",
            sender=reply.agent_id,
            sender_name=sender.name if sender else reply.agent_id,
            recipient=peer,
            audience=answered.audience,
            hops=hops,
            mode=MailMode.MESSAGE,
        )
        copy = await self._deliver_inbound(
            record,
            thread,
            reply.text,
            respond=verdict.allowed,
            event=reply.id,
            platform=platform,
            channel_name=channel_name,
        )
        await self._link_forwarded(reply, record, copy)

    async def _link_forwarded(self, reply: Outbound, record: MailRecord, copy: str) -> None:
        """The forwarded reply, and its copy in the peer's recall, come from what the replying
        turn answered (the message it was asked with) and what that came from."""
        asked = reply.inbox_id
        before = await self._lineage.sources_of(Derived.MESSAGE, [asked])
        sources = [asked, *before.get(asked, ())]
        workspace = record.audience.workspace
        await self._lineage.link(
            [
                *links(Derived.MAIL, record.id, sources, workspace),
                *(links(Derived.MESSAGE, copy, sources, workspace) if copy else ()),
            ]
        )

    async def _deliver_inbound(
        self,
        record: MailRecord,
        thread: str,
        text: str,
        *,
        respond: bool,
        event: str,
        platform: str = PLATFORM,
        channel_name: str = "",
    ) -> str:
        """Hand the message to the recipient's intake; returns its inbox item's id."""
        if self._receive is None:
            raise RuntimeError("AgentMail.connect(engine.receive) was not called")
        on_agents = platform == PLATFORM
        if on_agents:
            await self._mail.put(record)
        inbound = Inbound(
            platform=platform,
            agent_id=record.recipient,
            audience=record.audience,
            thread=thread,
            author=Author(record.sender, record.sender_name, is_agent=True),
            text=text,
            event_id=f"{PLATFORM}:{event}",
            # Platform messages that come from an agent have no platform id of their own.
            message_ref=record.id if on_agents else "",
            sent_at=utcnow(),
            respond=respond,
            hops=record.hops,
            channel_name=channel_name,
        )
        result = await self._receive(inbound)
        if result.outcome is ReceiveOutcome.REJECTED:
            raise MessagingRefused(f"the message was refused: {result.reason}")
        return result.inbox_id


class AgentsPort:
    """The ``PlatformPort`` of agent-to-agent conversations."""

    def __init__(self, mail: AgentMail) -> None:
        self._mail = mail

    @property
    def platform(self) -> str:
        return PLATFORM

    async def deliver(self, reply: Outbound) -> str:
        return await self._mail.deliver(reply)

    @contextlib.asynccontextmanager
    async def working(self, inbound: Inbound) -> AsyncIterator[None]:
        yield
