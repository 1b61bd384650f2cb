"""A store (SQLite file or MongoDB wire server), the scripted model and one agent, for the
background job tests; ``replica`` opens a second handle on the same data, as another
process would."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from engine.agent.creation import create_agent
from engine.audience import Audience, AudienceKind
from engine.backoff import Backoff
from engine.embeddings import Embedder
from engine.llm import LLMClient, RetryPolicy
from engine.records import Agent, Message, Role, new_id, next_seq, utcnow
from engine.store.protocol import Store
from engine.store.sqlite import SQLiteStore
from jobs import JobRunner, JobSettings
from tests.fakes.embedder import HashEmbedder
from tests.fakes.openai_server import FakeOpenAI

BACKENDS = ["sqlite", "mongo"]
WORKSPACE = "test:W1"

#: The cadence of the jobs under test: their runs fall in quarter-hour slots.
EVERY_S = 900.0


def dm(user: str, workspace: str = WORKSPACE) -> Audience:
    return Audience(workspace, AudienceKind.DM, f"D-{user}", user)


def public(channel: str, workspace: str = WORKSPACE) -> Audience:
    return Audience(workspace, AudienceKind.PUBLIC, channel)


def private(channel: str, workspace: str = WORKSPACE) -> Audience:
    return Audience(workspace, AudienceKind.PRIVATE, channel)


def _start_of_slot() -> datetime:
    """A minute into the current 6-hour period: every job's cadence slot divides it, so tests
    that advance the clock by minutes never cross into another slot."""
    now = utcnow()
    return now.replace(hour=now.hour - now.hour % 6, minute=1, second=0, microsecond=0)


@dataclass
class Clock:
    now: datetime = field(default_factory=_start_of_slot)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class World:
    store: Store
    stack: AsyncExitStack
    backend: str
    path: Path
    llm: FakeOpenAI
    client: LLMClient
    agent: Agent
    clock: Clock
    embedder: HashEmbedder = field(default_factory=HashEmbedder)

    async def replica(self) -> Store:
        """A second connection to the same data (another replica's store)."""
        if self.backend == "sqlite":
            store: Store = SQLiteStore(self.path)
            await store.setup()
        else:
            from engine.store.mongo import MongoStore
            from tests.fakes.mongo_wire import mongo_test_uri

            store = await MongoStore.connect(mongo_test_uri(), self.path.name)
        self.stack.push_async_callback(store.close)
        return store

    def settings(self, **overrides: Any) -> JobSettings:
        values: dict[str, Any] = {"idle_minutes": 5, "backoff_s": 60, "yield_to_live_s": 0}
        values.update(overrides)
        return JobSettings(**values)

    def memory_job[J](
        self, kind: Callable[[Store, Embedder, JobSettings, float], J], **overrides: Any
    ) -> J:
        """A memory job (consolidation, hygiene, digests) over this world's store and
        embedder, with these settings overridden, running every ``EVERY_S``."""
        return kind(self.store, self.embedder, self.settings(**overrides), EVERY_S)

    def runner(
        self, settings: JobSettings | None = None, *, store: Store | None = None, holder: str = ""
    ) -> JobRunner:
        return JobRunner(
            store or self.store,
            self.client,
            settings or self.settings(),
            holder=holder or None,
            clock=self.clock,
        )

    async def said(
        self,
        audience: Audience,
        author: str,
        content: str,
        *,
        ago: timedelta = timedelta(minutes=30),
        thread: str = "",
        role: Role = Role.USER,
        turn: str = "",
    ) -> Message:
        """Store a message as recall would have it, ``ago`` before the clock's now (in the
        turn ``turn``, as the pipeline writes a turn's messages)."""
        message = Message(
            id=new_id(),
            agent_id=self.agent.id,
            workspace=audience.workspace,
            channel=audience.channel,
            thread=thread,
            scope=audience.write_scope,
            role=role,
            author=author if role is Role.USER else self.agent.id,
            author_name=author.capitalize() if role is Role.USER else self.agent.name,
            content=content,
            seq=next_seq(),
            created_at=self.clock.now - ago,
            turn_id=turn,
        )
        await self.store.messages.append([message])
        return message


@asynccontextmanager
async def open_world(backend: str, tmp_path: Path) -> AsyncIterator[World]:
    async with AsyncExitStack() as stack:
        llm = await stack.enter_async_context(FakeOpenAI())
        client = LLMClient(
            base_url=llm.base_url,
            api_key="test",
            retry=RetryPolicy(total_seconds=1.0, backoff=Backoff(0.05, 0.1)),
        )
        stack.push_async_callback(client.aclose)
        store: Store
        if backend == "sqlite":
            path = tmp_path / "mnemo.sqlite3"
            store = SQLiteStore(path)
            await store.setup()
            stack.push_async_callback(store.close)
        else:
            from tests.fakes.mongo_wire import mongo_test_store

            store = await stack.enter_async_context(mongo_test_store())
            path = tmp_path / store.database.name  # type: ignore[attr-defined]
        agent = await create_agent(store, "mnemo", model="fake-model")
        yield World(store, stack, backend, path, llm, client, agent, Clock())
