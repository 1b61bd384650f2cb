"""Pipeline test doubles: a turn runner that records its calls, and a platform port that
dedupes deliveries by reply id the way Discord's nonces and Slack's client_msg_id do."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from engine.audience import Audience, AudienceKind
from engine.ports import DeliveryError
from engine.records import Agent, Author, Inbound, Message, Outbound, Role, new_id, next_seq, utcnow
from engine.search import HistoryRead
from engine.store.protocol import Store
from engine.store.queues import InboxItem
from engine.store.sqlite import SQLiteStore
from engine.turns import Replies, TurnResult, user_message

AGENT = Agent(id="agent-1", name="mnemo", model="fake", system_prompt="", tools=())


@contextlib.asynccontextmanager
async def open_test_store(kind: str, directory: Path) -> AsyncIterator[Store]:
    """A set-up store of ``kind`` ("sqlite" or "mongo") holding ``AGENT``."""
    if kind == "sqlite":
        store = SQLiteStore(directory / "mnemo.sqlite3")
        await store.setup()
        try:
            await store.agents.put(AGENT)
            yield store
        finally:
            await store.close()
        return
    from tests.fakes.mongo_wire import mongo_test_store

    async with mongo_test_store() as mongo:
        await mongo.agents.put(AGENT)
        yield mongo


def inbound(
    text: str,
    *,
    channel: str = "C1",
    thread: str = "",
    user: str = "U1",
    respond: bool = True,
    event_id: str | None = None,
    message_ref: str | None = None,
    platform: str = "test",
) -> Inbound:
    ref = message_ref or new_id()
    return Inbound(
        platform=platform,
        agent_id=AGENT.id,
        audience=Audience("test:W1", AudienceKind.PUBLIC, channel),
        thread=thread,
        author=Author(user, user.lower()),
        text=text,
        event_id=event_id or ref,
        message_ref=ref,
        sent_at=utcnow(),
        respond=respond,
    )


@dataclass
class RecordingRunner:
    """Answers each turn with "echo: <texts>"; remembers every batch it was given.

    Like the real runtime it returns the items' user messages with its own, for the pipeline
    to store. ``fail`` raises for the next that many calls; ``gate``, when set, holds turns
    until it is opened; ``indexed`` lists the ids of the messages the pipeline had indexed.
    """

    calls: list[tuple[str, ...]] = field(default_factory=list)
    fail: int = 0
    gate: asyncio.Event | None = None
    started: asyncio.Event = field(default_factory=asyncio.Event)
    indexed: list[str] = field(default_factory=list)

    async def run(self, items: Sequence[InboxItem], agent: Agent | None = None) -> TurnResult:
        self.calls.append(tuple(item.inbound.text for item in items))
        self.started.set()
        if self.gate is not None:
            await self.gate.wait()
        if self.fail > 0:
            self.fail -= 1
            raise RuntimeError("the model exploded")
        heard = tuple(user_message(item) for item in items)
        if not any(item.inbound.respond for item in items):
            return TurnResult(heard, ())
        text = "echo: " + " | ".join(item.inbound.text for item in items)
        head = items[0]
        answer = Message(
            id=f"{head.id}.001",
            agent_id=head.inbound.agent_id,
            workspace=head.inbound.workspace,
            channel=head.inbound.channel,
            thread=head.inbound.thread,
            scope=head.inbound.audience.write_scope,
            role=Role.ASSISTANT,
            author=AGENT.id,
            author_name=AGENT.name,
            content=text,
            seq=next_seq(),
            created_at=utcnow(),
            turn_id=head.id,
        )
        replies = Replies.for_items(items, utcnow)
        replies.add(text)
        return TurnResult((*heard, answer), replies.sent)

    async def message_embeddings(
        self, messages: Sequence[Message], seen: HistoryRead | None = None
    ) -> list[tuple[str, list[float]]]:
        self.indexed.extend(m.id for m in messages)
        return []


@dataclass
class DedupingPort:
    """A platform that posts each reply id once (redeliveries get the first post's id back).

    ``outage`` makes deliveries fail (transient, or ``permanent``); ``attempts`` counts calls.
    """

    platform: str = "test"
    posted: list[Outbound] = field(default_factory=list)
    attempts: int = 0
    outage: int = 0
    permanent: bool = False
    retry_after: float | None = None
    working_for: list[str] = field(default_factory=list)
    _refs: dict[str, str] = field(default_factory=dict)

    async def deliver(self, reply: Outbound) -> str:
        self.attempts += 1
        if self.outage > 0:
            self.outage -= 1
            raise DeliveryError(
                "platform down", permanent=self.permanent, retry_after=self.retry_after
            )
        if reply.id not in self._refs:
            self.posted.append(reply)
            self._refs[reply.id] = f"post-{len(self.posted)}"
        return self._refs[reply.id]

    @contextlib.asynccontextmanager
    async def working(self, inbound: Inbound) -> AsyncIterator[None]:
        self.working_for.append(inbound.text)
        yield

    def texts(self, channel: str | None = None) -> list[str]:
        return [r.text for r in self.posted if channel is None or r.channel == channel]
