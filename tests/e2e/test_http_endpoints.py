"""Health, readiness and Prometheus metrics of a running ``mnemo run`` process, and its JSON
logs: what a load balancer, an orchestrator and a Prometheus server would see; and the
inspector's chat API when several processes serve one store."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from engine.store import open_store
from engine.store.protocol import Store
from engine.store.queues import InboxStatus
from tests.e2e.mnemo_process import MnemoProcess, bot_environment, hand_over, wait_status
from tests.fakes.openai_server import FakeOpenAI, error

pytestmark = pytest.mark.slow

WAIT = 60.0


@dataclass
class Deployment:
    llm: FakeOpenAI
    env: dict[str, str]
    workdir: Path
    api_key: str

    def bot(self, name: str) -> MnemoProcess:
        return MnemoProcess(self.env, self.workdir, name)


@pytest.fixture
async def deployment(tmp_path: Path) -> AsyncIterator[Deployment]:
    api_key = "sk-e2e" + secrets.token_urlsafe(24)
    async with FakeOpenAI() as llm:
        env = bot_environment(
            OPENAI_API_KEY=api_key,
            OPENAI_BASE_URL=llm.base_url,
            MNEMO_DATA_DIR=str(tmp_path / "data"),
            MNEMO_HTTP_HOST="127.0.0.1",
            MNEMO_HTTP_PORT="0",
            MNEMO_LOG_FORMAT="json",
            MNEMO_LLM_TIMEOUT="30",
        )
        yield Deployment(llm, env, tmp_path, api_key)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    """The bot's embedded store, opened from the test as another process would."""
    opened = await open_store(mongodb_uri=None, data_dir=tmp_path / "data")
    try:
        yield opened
    finally:
        await opened.close()


def samples(exposition: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a Prometheus exposition, by name and labels."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
    }


def value(
    found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    return found[(name, frozenset(labels.items()))]


async def scrape(bot: MnemoProcess) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    status, content_type, body = await bot.get("/metrics")
    assert status == 200
    assert content_type.startswith("text/plain; version=0.0.4")
    return samples(body)


async def stopped(bot: MnemoProcess) -> int:
    bot.terminate()
    async with asyncio.timeout(WAIT):
        return await bot.exited()


async def test_a_fresh_bot_is_alive_ready_and_exposes_every_metric_family(
    deployment: Deployment,
) -> None:
    async with deployment.bot("fresh") as bot:
        assert await bot.get("/healthz") == (
            200,
            "application/json; charset=utf-8",
            '{"status": "ok"}',
        )
        status, _, body = await bot.get("/readyz")
        assert (status, json.loads(body)) == (200, {"status": "ready"})
        status, _, body = await bot.get("/metrics")
        assert status == 200
        families = {family.name for family in text_string_to_metric_families(body)}
        assert {
            "mnemo_turns",
            "mnemo_turn_duration_seconds",
            "mnemo_stage_duration_seconds",
            "mnemo_llm_requests",
            "mnemo_llm_retries",
            "mnemo_llm_errors",
            "mnemo_llm_tokens",
            "mnemo_inbox_pending",
            "mnemo_conversations_running",
            "mnemo_conversations_waiting",
            "mnemo_job_runs",
            "mnemo_job_duration_seconds",
        } <= families
        assert await stopped(bot) == 0
    records = bot.records
    assert records, "the bot logged nothing"
    assert all({"time", "level", "logger", "message"} <= set(r) for r in records)
    assert any(r["message"].startswith("serving http://127.0.0.1:") for r in records)


async def test_metrics_follow_turns_queue_depth_and_llm_errors_and_logs_hide_the_key(
    deployment: Deployment, store: Store
) -> None:
    llm = deployment.llm
    # The endpoint's error echoes the key, as some servers do: the bot logs the error.
    llm.push(error(401, f"Incorrect API key provided: {deployment.api_key}"))
    async with deployment.bot("metrics") as bot:
        agent = await store.agents.by_name("mnemo")
        assert agent is not None

        first = await hand_over(store, agent.id, "hello there", channel="C1")
        async with asyncio.timeout(WAIT):
            # Answered with a notice that the key was refused: a failed turn, for alerts.
            await wait_status(store, first, InboxStatus.FAILED)

        llm.block()
        waiting = [
            await hand_over(store, agent.id, f"question {n}", channel=f"C{n}") for n in (2, 3)
        ]
        async with asyncio.timeout(WAIT):
            await llm.wait_for_in_flight(2)
        busy = await scrape(bot)
        assert value(busy, "mnemo_inbox_pending") == 2
        assert value(busy, "mnemo_conversations_running") == 2
        llm.unblock()
        async with asyncio.timeout(WAIT):
            for inbox_id in waiting:
                await wait_status(store, inbox_id, InboxStatus.DONE)

        found = await scrape(bot)
        # A refused key is answered at once (the user is told), not retried.
        assert value(found, "mnemo_turns_total", outcome="retried") == 0
        assert value(found, "mnemo_turns_total", outcome="done") == 2
        assert value(found, "mnemo_turns_total", outcome="failed") == 1
        assert value(found, "mnemo_turn_duration_seconds_count") == 3
        for stage in ("turn", "apply", "deliver"):
            assert value(found, "mnemo_stage_duration_seconds_count", stage=stage) == 3
        assert value(found, "mnemo_llm_requests_total") == len(llm.chat_requests)
        assert value(found, "mnemo_llm_errors_total") == 1
        assert value(found, "mnemo_llm_tokens_total", kind="prompt") > 0
        assert value(found, "mnemo_inbox_pending") == 0
        assert value(found, "mnemo_conversations_running") == 0
        assert await stopped(bot) == 0

    logs = "\n".join(bot.lines)
    assert deployment.api_key not in logs
    failure = [r for r in bot.records if r["level"] == "error" and "401" in json.dumps(r)]
    assert failure, "the rejected model call was not logged"
    assert "[redacted]" in json.dumps(failure)
    assert "OPENAI_API_KEY" in json.dumps(failure)


async def test_a_wrong_model_url_is_one_warning_at_start_and_failed_turns_unready_it(
    deployment: Deployment, store: Store
) -> None:
    async with FakeOpenAI() as gone:
        dead_url = gone.base_url  # nothing listens there once the block ends
    env = {**deployment.env, "OPENAI_BASE_URL": dead_url}
    async with MnemoProcess(env, deployment.workdir, "dead-url") as bot:
        [warning] = [r for r in bot.records if "OPENAI_BASE_URL" in r["message"]]
        assert warning["level"] == "warning"
        assert f"cannot connect to {dead_url} (connection refused)" in warning["message"]
        status, _, body = await bot.get("/readyz")
        assert (status, json.loads(body)) == (200, {"status": "ready"})

        agent = await store.agents.by_name("mnemo")
        assert agent is not None
        for n in range(3):
            inbox_id = await hand_over(store, agent.id, f"hello {n}", channel=f"C{n}")
            async with asyncio.timeout(10):  # the user hears at once, not after retries
                await wait_status(store, inbox_id, InboxStatus.FAILED)

        status, _, body = await bot.get("/readyz")
        assert status == 503
        assert "model unreachable" in json.loads(body)["problems"][0]
        found = await scrape(bot)
        assert value(found, "mnemo_turns_total", outcome="failed") == 3
        assert await stopped(bot) == 0
    assert not [line for line in bot.lines if "retry" in line]


async def chat(
    http: aiohttp.ClientSession, bot: MnemoProcess, token: str, text: str
) -> dict[str, Any]:
    """Say ``text`` in a DM through ``bot``'s inspector chat API; its answer."""
    api = f"http://127.0.0.1:{bot.port}/inspector/api"
    headers = {"Authorization": f"Bearer {token}"}
    async with http.get(f"{api}/agents", headers=headers) as response:
        agent = (await response.json())["default_agent_id"]
    dm = {"workspace": "e2e:W1", "kind": "dm", "channel": "D1", "user": "U1"}
    async with http.post(
        f"{api}/agents/{agent}/chat", json={**dm, "text": text}, headers=headers
    ) as response:
        assert response.status == 200, await response.text()
        answer: dict[str, Any] = await response.json()
        return answer


async def wait_pending(store: Store, count: int) -> None:
    """Return once ``count`` messages wait in the inbox (wrap in a timeout)."""
    while True:
        if await store.inbox.depth() >= count:
            return
        await asyncio.sleep(0.05)


async def test_a_chat_answered_by_another_process_returns_the_replies_it_delivered(
    deployment: Deployment, store: Store
) -> None:
    token = secrets.token_urlsafe(16)
    env = {**deployment.env, "MNEMO_INSPECTOR_TOKEN": token}
    llm = deployment.llm
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=WAIT)) as http,
        MnemoProcess(env, deployment.workdir, "runs-turns") as runner,
    ):
        # The first message's turn waits on the model, so its process holds the conversation
        # while the second message is said to the other process.
        llm.block()
        first = asyncio.create_task(chat(http, runner, token, "first: the garden"))
        async with asyncio.timeout(WAIT):
            await llm.wait_for_in_flight()
        async with MnemoProcess(env, deployment.workdir, "takes-messages") as taker:
            second = asyncio.create_task(chat(http, taker, token, "second: the tomatoes"))
            async with asyncio.timeout(WAIT):
                await wait_pending(store, 2)
            llm.unblock()
            async with asyncio.timeout(WAIT):
                answers = await asyncio.gather(first, second)
    assert [a["settled"] for a in answers] == [True, True]
    # The scripted model echoes what it was told last: each answer holds its own reply.
    (first_reply,) = answers[0]["replies"]
    (second_reply,) = answers[1]["replies"]
    assert first_reply.endswith("first: the garden")
    assert second_reply.endswith("second: the tomatoes")
    assert len(llm.chat_requests) == 2
