"""A model endpoint that goes away and comes back, as a user, an operator's log, Prometheus
and a load balancer's readiness probe see it."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

from bot.http import build_app
from engine.agent.prompts import LLM_DOWN_REPLY, LLM_KEY_REFUSED_REPLY
from engine.llm import UNREACHABLE_AFTER, LLMClient
from engine.model_server import ModelServer
from tests.fakes.openai_server import FakeOpenAI, error, tool_call
from tests.harness import Bot, bot_running, dm, settings_for

type Client = TestClient[web.Request, web.Application]


@asynccontextmanager
async def http_client(bot: Bot) -> AsyncIterator[Client]:
    runtime = bot.runtime
    app = build_app(runtime.http_services(), runtime.settings)
    async with TestClient(TestServer(app)) as client:
        yield client


async def readiness(client: Client) -> tuple[int, dict[str, object]]:
    response = await client.get("/readyz")
    return response.status, json.loads(await response.text())


async def turns(client: Client) -> dict[str, float]:
    text = await (await client.get("/metrics")).text()
    return {
        sample.labels["outcome"]: sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "mnemo_turns"
        for sample in family.samples
        if sample.name == "mnemo_turns_total"
    }


async def gauge(client: Client, name: str) -> float:
    text = await (await client.get("/metrics")).text()
    [value] = [
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    ]
    return value


async def test_a_dead_endpoint_fails_fast_counts_failed_turns_and_readiness_recovers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    llm = FakeOpenAI()
    await llm.start()
    port, base_url = llm.port, llm.base_url
    # A minute of retry budget: none of it is spent on a refused connection.
    settings = settings_for(tmp_path, llm, MNEMO_LLM_TIMEOUT=60.0)
    async with bot_running(settings, llm) as bot, http_client(bot) as client:
        [echoed] = await bot.say(dm("ann"), "ann", "hello")
        assert echoed.endswith("hello")
        assert (await readiness(client))[0] == 200

        await llm.close()
        caplog.clear()
        with caplog.at_level(logging.DEBUG):
            for n in range(UNREACHABLE_AFTER):
                started = time.monotonic()
                assert await bot.say(dm("ann"), "ann", f"are you there {n}?") == [LLM_DOWN_REPLY]
                assert time.monotonic() - started < 10.0

        infos = [r for r in caplog.records if r.levelno >= logging.INFO]
        said = [r.getMessage() for r in infos if "connection refused" in r.getMessage()]
        assert len(said) == UNREACHABLE_AFTER, "once per failed turn, never per retry"
        assert all(base_url in line for line in said)
        assert not [r for r in infos if "retry" in r.getMessage()]
        counted = await turns(client)
        assert counted["failed"] == UNREACHABLE_AFTER
        assert counted["done"] == 1
        assert await gauge(client, "mnemo_llm_failing_steps") == UNREACHABLE_AFTER

        status, body = await readiness(client)
        assert status == 503
        problems = body["problems"]
        assert isinstance(problems, list)
        [problem] = problems
        assert "model unreachable" in problem
        assert f"cannot connect to {base_url} (connection refused)" in problem

        # Back on the same address: ready again without a message having to succeed first.
        async with FakeOpenAI(port=port) as back:
            assert await readiness(client) == (200, {"status": "ready"})
            bot.llm = back
            back.push(tool_call("send_message", message="Back."))
            assert await bot.say(dm("ann"), "ann", "now?") == ["Back."]
            assert await gauge(client, "mnemo_llm_failing_steps") == 0


async def test_a_refused_key_counts_as_a_failed_turn(tmp_path: Path) -> None:
    async with (
        FakeOpenAI() as llm,
        bot_running(settings_for(tmp_path, llm), llm) as bot,
        http_client(bot) as client,
    ):
        llm.push(error(401, "Incorrect API key provided"))
        assert await bot.say(dm("bo"), "bo", "hi") == [LLM_KEY_REFUSED_REPLY]
        assert (await turns(client))["failed"] == 1
        assert (await turns(client))["done"] == 0


async def test_the_start_up_check_is_one_line_naming_the_url_and_the_setting() -> None:
    async with FakeOpenAI() as llm:
        client = LLMClient(base_url=llm.base_url, api_key="test")
        assert await ModelServer(client).check() is None
        await client.aclose()
    dead = LLMClient(base_url=llm.base_url, api_key="test")

    problem = await ModelServer(dead).check()
    await dead.aclose()

    assert problem == (
        f"the model endpoint does not answer: cannot connect to {llm.base_url} "
        "(connection refused); check OPENAI_BASE_URL"
    )


async def test_every_command_that_runs_agents_checks_the_endpoint_once_at_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with FakeOpenAI() as gone:
        pass  # nothing listens on its address any more
    with caplog.at_level(logging.WARNING, logger="bot.wiring"):
        async with bot_running(settings_for(tmp_path, gone), gone):
            pass

    [line] = [r.getMessage() for r in caplog.records]
    assert line.endswith("(connection refused); check OPENAI_BASE_URL")
