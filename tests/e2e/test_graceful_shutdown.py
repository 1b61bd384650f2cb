"""SIGTERM on a running ``mnemo run``: no new work is taken, a running turn finishes within the
stop deadline or is released whole, and a restart answers every message exactly once."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from engine.embeddings import LocalEmbedder
from engine.pipeline import PipelineSettings
from engine.pipeline.worker import lease_name
from engine.store import open_store
from engine.store.protocol import Store
from engine.store.queues import InboxStatus
from tests.e2e.mnemo_process import MnemoProcess, bot_environment, hand_over, wait_status
from tests.fakes.openai_server import FakeOpenAI

pytestmark = pytest.mark.slow

WAIT = 60.0
#: How long ``mnemo run`` lets running turns finish after SIGTERM.
STOP_DEADLINE = PipelineSettings().stop_deadline


@dataclass
class Deployment:
    llm: FakeOpenAI
    store: Store
    env: dict[str, str]
    workdir: Path

    def bot(self, name: str) -> MnemoProcess:
        return MnemoProcess(self.env, self.workdir, name)

    async def agent_id(self) -> str:
        agent = await self.store.agents.by_name("mnemo")
        assert agent is not None
        return agent.id

    async def replies_to(self, inbox_id: str) -> list[str]:
        return [entry.reply.text for entry in await self.store.outbox.for_inbox(inbox_id)]

    async def expect_one_reply(self, inbox_id: str, text: str) -> None:
        """Exactly one reply recorded for the message: the fake model's echo of it."""
        replies = await self.replies_to(inbox_id)
        assert len(replies) == 1, replies
        assert replies[0].startswith("echo: ")
        assert replies[0].endswith(text)

    async def status_of(self, inbox_id: str) -> InboxStatus:
        item = await self.store.inbox.get(inbox_id)
        assert item is not None
        return item.status


async def open_deployment(tmp_path: Path, mongodb_uri: str | None, database: str) -> Deployment:
    llm = await FakeOpenAI().__aenter__()
    env = bot_environment(
        OPENAI_API_KEY="test-key",
        OPENAI_BASE_URL=llm.base_url,
        MNEMO_DATA_DIR=str(tmp_path / "data"),
        MNEMO_HTTP_HOST="127.0.0.1",
        MNEMO_HTTP_PORT="0",
        MNEMO_LOG_FORMAT="json",
        MNEMO_LLM_TIMEOUT="60",
    )
    if mongodb_uri is not None:
        env["MONGODB_URI"] = mongodb_uri
        env["MONGODB_DATABASE"] = database
    store = await open_store(mongodb_uri=mongodb_uri, data_dir=tmp_path / "data", database=database)
    return Deployment(llm, store, env, tmp_path)


@pytest.fixture(params=["sqlite"])
async def deployment(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Deployment]:
    """The bot's store and model; the finishing path is the same code on both stores, the
    release path is also run on MongoDB (its leases and inbox marks differ)."""
    uri: str | None = None
    database = f"shutdown_{uuid.uuid4().hex[:10]}"
    if request.param == "mongo":
        from tests.fakes.mongo_wire import ensure_test_vector_indexes, mongo_test_uri

        uri = mongo_test_uri()
        await ensure_test_vector_indexes(database, LocalEmbedder().dimensions)
    deployment = await open_deployment(tmp_path, uri, database)
    try:
        yield deployment
    finally:
        await deployment.store.close()
        await deployment.llm.__aexit__(None, None, None)


async def stop_and_wait(bot: MnemoProcess) -> int:
    bot.terminate()
    async with asyncio.timeout(STOP_DEADLINE + WAIT):
        return await bot.exited()


async def readiness_once_stopping(bot: MnemoProcess) -> object:
    """The readiness answer, polled until it stops saying "ready"."""
    while True:
        status, _, body = await bot.get("/readyz")
        if status != 200:
            assert status == 503
            return json.loads(body)
        await asyncio.sleep(0.05)


async def test_sigterm_lets_the_running_turn_finish_and_starts_no_new_one(
    deployment: Deployment,
) -> None:
    llm = deployment.llm
    llm.block()
    async with deployment.bot("draining") as bot:
        agent_id = await deployment.agent_id()
        running = await hand_over(deployment.store, agent_id, "tell me a story", channel="C1")
        async with asyncio.timeout(WAIT):
            await llm.wait_for_in_flight(1)

        bot.terminate()
        async with asyncio.timeout(WAIT):
            readiness = await readiness_once_stopping(bot)
        assert readiness == {"status": "stopping"}
        assert (await bot.get("/healthz"))[0] == 200
        late = await hand_over(deployment.store, agent_id, "one more thing", channel="C2")
        await asyncio.sleep(1.5)  # longer than the inbox poll: a draining bot must not take it
        assert bot.running

        llm.unblock()
        async with asyncio.timeout(STOP_DEADLINE + WAIT):
            assert await bot.exited() == 0

    assert await deployment.status_of(running) is InboxStatus.DONE
    await deployment.expect_one_reply(running, "tell me a story")
    assert await deployment.status_of(late) is InboxStatus.PENDING
    assert len(llm.chat_requests) == 1
    messages = [r["message"] for r in bot.records]
    assert messages.index("stopped") > next(
        i for i, m in enumerate(messages) if m.startswith("stopping")
    )

    async with deployment.bot("after") as bot:
        async with asyncio.timeout(WAIT):
            await wait_status(deployment.store, late, InboxStatus.DONE)
        assert await stop_and_wait(bot) == 0
    await deployment.expect_one_reply(late, "one more thing")
    await deployment.expect_one_reply(running, "tell me a story")
    assert len(llm.chat_requests) == 2


@pytest.mark.parametrize("deployment", ["sqlite", "mongo"], indirect=True)
async def test_a_turn_past_the_stop_deadline_is_released_and_answered_once_after_restart(
    deployment: Deployment,
) -> None:
    llm = deployment.llm
    llm.block()
    async with deployment.bot("stuck") as bot:
        agent_id = await deployment.agent_id()
        inbox_id = await hand_over(deployment.store, agent_id, "are you there", channel="C1")
        async with asyncio.timeout(WAIT):
            await llm.wait_for_in_flight(1)
        started = asyncio.get_running_loop().time()
        assert await stop_and_wait(bot) == 0
        waited = asyncio.get_running_loop().time() - started
    assert waited >= STOP_DEADLINE - 0.5  # it gave the turn its deadline before letting go

    # Released whole: still pending, nothing half applied, the conversation's lease free.
    assert await deployment.status_of(inbox_id) is InboxStatus.PENDING
    assert await deployment.replies_to(inbox_id) == []
    item = await deployment.store.inbox.get(inbox_id)
    assert item is not None
    lease = lease_name(item.conversation)
    assert await deployment.store.leases.acquire(lease, "probe", 5.0)
    await deployment.store.leases.release(lease, "probe")

    llm.unblock()
    async with deployment.bot("restarted") as bot:
        async with asyncio.timeout(WAIT):
            await wait_status(deployment.store, inbox_id, InboxStatus.DONE)
        await asyncio.sleep(1.0)  # room for a wrong second turn to show up
        assert await stop_and_wait(bot) == 0
    await deployment.expect_one_reply(inbox_id, "are you there")
    assert len(llm.chat_requests) == 2  # the released attempt and the one that answered
