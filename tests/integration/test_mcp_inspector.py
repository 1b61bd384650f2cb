"""The inspector's tool tester runs MCP tools as the agent would: a server declared in the
agents file is started with the bot, and its audience limits hold in the tester too."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fakes.openai_server import FakeOpenAI
from tests.integration.test_inspector_api import (
    DM_ALICE,
    GENERAL_ALICE,
    Inspector,
    inspector_running,
)

AGENTS_FILE = f"""
mcp_servers:
  - name: fake
    command: {sys.executable}
    args: [-m, tests.fakes.mcp_server]
    audiences: [public, private]
agents:
  - name: mnemo                    # the default agent, which the inspector opens on
    tools: [send_message, fake__*]
"""


@pytest.fixture
async def inspector(tmp_path: Path) -> AsyncIterator[Inspector]:
    agents_file = tmp_path / "agents.yml"
    agents_file.write_text(AGENTS_FILE)
    async with (
        FakeOpenAI() as llm,
        inspector_running(tmp_path, llm, MNEMO_AGENTS_FILE=agents_file) as running,
    ):
        yield running


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


async def test_context_preview_offers_a_servers_tools_only_where_it_is_allowed(
    inspector: Inspector,
) -> None:
    def tools(window: dict[str, object]) -> set[str]:
        request = window["request"]
        assert isinstance(request, dict)
        return {t["function"]["name"] for t in request["tools"]}

    in_dm = await inspector.get(f"/agents/{inspector.agent}/context", **DM_ALICE)
    in_channel = await inspector.get(f"/agents/{inspector.agent}/context", **GENERAL_ALICE)
    assert not any(name.startswith("fake__") for name in tools(in_dm))
    assert "fake__add" in tools(in_channel)
