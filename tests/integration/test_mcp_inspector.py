"""The inspector's tool tester runs MCP tools as the agent would: a server registered in the
store is started with the bot, and its audience limits hold in the tester too."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.http import build_app
from engine.config import attach_tool
from engine.store import open_store
from engine.tools.mcp import McpServerRegistry, McpServerSpec
from tests.fakes.openai_server import FakeOpenAI
from tests.harness import bot_running, settings_for
from tests.integration.test_inspector_api import DM_ALICE, GENERAL_ALICE, TOKEN, Inspector


@pytest.fixture
async def inspector(tmp_path: Path) -> AsyncIterator[Inspector]:
    store = await open_store(mongodb_uri=None, data_dir=tmp_path)
    server = McpServerSpec(
        name="fake",
        command=sys.executable,
        args=("-m", "tests.fakes.mcp_server"),
        audiences=("public", "private"),
    )
    await McpServerRegistry(store.kv).add(server)
    await store.close()
    async with FakeOpenAI() as llm:
        settings = settings_for(tmp_path, llm, MNEMO_INSPECTOR_TOKEN=TOKEN)
        async with (
            bot_running(settings, llm) as bot,
            TestClient(
                TestServer(build_app(bot.runtime.http_services(), bot.runtime.settings))
            ) as client,
        ):
            await attach_tool(bot.runtime.store, bot.runtime.default_agent.name, "fake__*")
            yield Inspector(bot, client, llm)


async def test_tool_tester_runs_an_mcp_tool_where_its_server_is_allowed(
    inspector: Inspector,
) -> None:
    listed = await inspector.get(f"/agents/{inspector.agent}/tools")
    assert "fake__add" in {tool["name"] for tool in listed["tools"]}

    status, result = await inspector.send(
        "POST",
        f"/agents/{inspector.agent}/tools/fake__add/run",
        {**GENERAL_ALICE, "arguments": {"a": 2, "b": 3}},
    )
    assert status == 200, result
    assert (result["output"], result["error"]) == ("5", False)

    status, result = await inspector.send(
        "POST",
        f"/agents/{inspector.agent}/tools/fake__add/run",
        {**DM_ALICE, "arguments": {"a": 2, "b": 3}},
    )
    assert status == 404, result
