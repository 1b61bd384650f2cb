"""MCP servers in whole agent turns: real servers built with the SDK (over stdio and over
Streamable HTTP), called by the scripted model on the one tool loop, failing in every way a
server can, and kept away from the audiences they are not for."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import socket
import sys
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest

from engine.audience import Audience, AudienceKind
from engine.records import Role, ToolRule
from engine.store.lineage import Derived
from engine.store.protocol import RecordFilter, Store
from engine.tools.mcp import McpServerSpec
from engine.tools.mcp._provider import McpTools
from tests.fakes.discord_world import eventually
from tests.fakes.mcp_server import SECRET_VARIABLE, serve_http
from tests.fakes.openai_server import tool_call, tool_calls
from tests.integration.test_sandbox_agent import Turns, agent_turns
from tests.integration.test_sandbox_agent import store as store  # the fixture, shared

WORKSPACE = "test:W1"
TOKEN = "t0ken-for-tests"
#: The bot's environment as the servers' declarations name it.
ENVIRON = {"BOT_SECRET": "open sesame", "WEB_TOKEN": f"Bearer {TOKEN}", "BAD_TOKEN": "Bearer no"}


def stdio_server(name: str, *extra: str, **fields: Any) -> McpServerSpec:
    return McpServerSpec(
        name=name,
        command=sys.executable,
        args=("-m", "tests.fakes.mcp_server", *extra),
        **fields,
    )


def dm(user: str) -> Audience:
    return Audience(WORKSPACE, AudienceKind.DM, f"D-{user}", user)


def public(channel: str) -> Audience:
    return Audience(WORKSPACE, AudienceKind.PUBLIC, channel)


@contextlib.asynccontextmanager
async def running(
    store: Store, servers: Sequence[McpServerSpec], tools: Sequence[str]
) -> AsyncIterator[tuple[Turns, McpTools]]:
    """An agent with ``tools`` whose MCP servers are started, driven turn by turn."""
    mcp = McpTools(servers, ENVIRON, start_timeout=30.0, retry_after=0.0)
    await mcp.start()
    try:
        async with agent_turns(store, [mcp], "opsbot", tools) as turns:
            yield turns, mcp
    finally:
        await mcp.aclose()


def offered(turns: Turns, request: int = -1) -> set[str]:
    return {t["function"]["name"] for t in turns.llm.chat_requests[request]["tools"]}


def results(turns: Turns) -> list[str]:
    return turns.tool_results()


async def test_a_stdio_server_tool_is_offered_namespaced_called_and_kept_in_recall(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEAK_API_KEY", "must not reach the server")
    server = stdio_server("fake", env={SECRET_VARIABLE: "BOT_SECRET"})
    async with running(store, [server], ["fake__*"]) as (turns, _):
        turns.llm.push(
            tool_call("fake__add", a=2, b=5),
            tool_call("fake__secret"),
            tool_call("send_message", message="Seven."),
        )
        assert await turns.say(dm("alice"), "alice", "What is 2 + 5?") == ["Seven."]
        names = offered(turns, 0)
        assert {"fake__add", "fake__look_up", "fake__secret"} <= names
        assert results(turns) == ["7", "open sesame leaked=[]"]
        schema = next(
            t["function"]
            for t in turns.llm.chat_requests[0]["tools"]
            if t["function"]["name"] == "fake__add"
        )
        assert schema["parameters"]["required"] == ["a", "b"]
        # Stored in recall like every tool result, with the audience of the turn.
        visible = RecordFilter.for_audience(turns.agent.id, dm("alice"))
        kept = [m for m in await store.messages.list(visible, 50) if m.role is Role.TOOL]
        assert {"7", "open sesame leaked=[]"} <= {m.content for m in kept}
        assert {str(m.scope) for m in kept} == {"dm:alice"}
        # ... and with lineage back to what alice said, so forgetting her removes it too.
        asked = next(m for m in await store.messages.list(visible, 50) if m.role is Role.USER)
        result = next(m for m in kept if m.content == "7")
        sources = await store.lineage.sources_of(Derived.MESSAGE, [result.id])
        assert asked.id in sources[result.id]
        elsewhere = RecordFilter.for_audience(turns.agent.id, public("C-ops"))
        assert all(m.content != "7" for m in await store.messages.list(elsewhere, 50))


async def test_an_http_server_gets_its_header_from_a_named_variable(store: Store) -> None:
    async with serve_http(TOKEN) as url:
        servers = [
            McpServerSpec(name="web", url=url, headers={"Authorization": "WEB_TOKEN"}),
            McpServerSpec(name="locked", url=url, headers={"Authorization": "BAD_TOKEN"}),
        ]
        async with running(store, servers, ["web__add", "locked__add"]) as (turns, mcp):
            assert mcp.problem("web") == ""
            assert mcp.problem("locked")
            turns.llm.push(
                tool_calls(("web__add", {"a": 5, "b": 7}), ("locked__add", {"a": 1, "b": 1})),
                tool_call("send_message", message="Twelve."),
            )
            assert await turns.say(public("C-ops"), "alice", "5 + 7?") == ["Twelve."]
            web, locked = results(turns)
            assert web == "12"
            assert locked.startswith("Error: locked__add cannot be called: its MCP server ")
            assert "'locked' is not running" in locked


async def test_every_failure_of_a_server_is_a_tool_error_and_the_turn_goes_on(
    store: Store,
) -> None:
    servers = [
        stdio_server("fake", timeout=2.0),
        stdio_server("down", "--fail-at-start"),
    ]
    tools = ["fake__*", "down__add"]
    async with running(store, servers, tools) as (turns, _):
        turns.llm.push(
            tool_calls(
                ("fake__fail", {"reason": "no such ticket"}),
                ("fake__huge", {"size": 50_000}),
                ("fake__broken", {"text": "x"}),
                ("fake__add", {"a": "two", "b": 1}),
                ("down__add", {"a": 1, "b": 2}),
            ),
            tool_call("fake__hang"),
            tool_call("fake__crash"),
            tool_call("fake__add", a=1, b=2),
            tool_call("send_message", message="Done."),
        )
        assert await turns.say(public("C-ops"), "alice", "Try everything.") == ["Done."]
        failed, huge, broken, bad_args, down, hang, crash, again = results(turns)
        assert failed.startswith("Error: fake__fail failed: ")
        assert "no such ticket" in failed
        assert huge.startswith("y" * 6000 + "\n[Result cut: the tool answered 50000 characters")
        assert broken == (
            "Error: fake__broken cannot be called: the server declares an invalid input schema "
            "for it (its properties are not a mapping of schemas)."
        )
        assert bad_args.startswith("Error: fake__add failed: ")
        assert down.startswith("Error: down__add cannot be called: its MCP server 'down' is ")
        assert "fake-tools: cannot start, no configuration" in down
        assert hang == "Error: fake__hang: the MCP server 'fake' did not answer within 2 s."
        assert crash.startswith("Error: fake__crash: the MCP server 'fake' crashed during the call")
        assert "crashing on purpose" in crash
        assert again == "3"  # started again on the next call
        # The model is offered a usable schema for the broken tool, saying why it cannot run.
        broken_schema = next(
            t["function"]
            for t in turns.llm.chat_requests[0]["tools"]
            if t["function"]["name"] == "fake__broken"
        )
        assert broken_schema["parameters"] == {"type": "object", "properties": {}}
        assert broken_schema["description"].startswith("Unavailable: ")


async def test_a_changed_tool_list_is_offered_from_the_next_step(store: Store) -> None:
    async with running(store, [stdio_server("fake")], ["fake__*"]) as (turns, mcp):
        assert "fake__shrink" not in mcp.server_tools("fake")
        turns.llm.push(tool_call("fake__grow"), tool_call("send_message", message="Grown."))
        await turns.say(public("C-ops"), "alice", "Grow.")
        await eventually(
            lambda: "fake__shrink" in mcp.server_tools("fake"), "the new tool was listed"
        )
        turns.llm.push(
            tool_call("fake__shrink", text="QUIET"), tool_call("send_message", message="ok")
        )
        await turns.say(public("C-ops"), "alice", "Shrink QUIET.")
        assert "fake__shrink" in offered(turns, -2)
        assert results(turns) == ["quiet"]


async def test_a_dm_turn_never_sees_a_server_limited_away_from_dms(store: Store) -> None:
    server = stdio_server("fake", audiences=("public", "private"))
    async with running(store, [server], ["fake__add"]) as (turns, _):
        rules = (
            ToolRule("child", "fake__add", children=("send_message",)),
            ToolRule("max_per_step", "conversation_search", limit=1),
        )
        await store.agents.put(dataclasses.replace(turns.agent, tool_rules=rules))
        turns.llm.push(
            tool_call("fake__add", a=1, b=1), tool_call("send_message", message="Cannot.")
        )
        await turns.say(dm("alice"), "alice", "1 + 1?")
        assert not any(name.startswith("fake__") for name in offered(turns, 0))
        assert results(turns)[0].startswith("Error: there is no tool called 'fake__add'")
        # Its rule is left out of the DM, the agent's other rules still hold.
        prompt = json.dumps(turns.llm.chat_requests[0]["messages"])
        assert "Call conversation_search at most once per turn." in prompt
        assert "fake__add" not in prompt

        turns.llm.push(tool_call("fake__add", a=1, b=1), tool_call("send_message", message="2"))
        await turns.say(public("C-ops"), "alice", "1 + 1?")
        assert "fake__add" in offered(turns, -2)
        assert results(turns) == ["2"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def late_server(port: int) -> McpServerSpec:
    """An HTTP server on ``port``, where nothing listens until the test says so."""
    return McpServerSpec(
        name="late", url=f"http://127.0.0.1:{port}/mcp", headers={"Authorization": "WEB_TOKEN"}
    )


async def test_a_server_down_at_start_serves_a_later_call_once_it_is_up(store: Store) -> None:
    port = free_port()
    server = late_server(port)
    async with running(store, [server], ["late__add"]) as (turns, mcp):
        assert "cannot reach the server" in mcp.problem("late")
        turns.llm.push(tool_call("late__add", a=1, b=2), tool_call("send_message", message="-"))
        await turns.say(public("C-ops"), "alice", "1 + 2?")
        assert results(turns)[0].startswith("Error: late__add cannot be called: its MCP server")

        async with serve_http(TOKEN, port):
            turns.llm.push(tool_call("late__add", a=1, b=2), tool_call("send_message", message="3"))
            await turns.say(public("C-ops"), "alice", "And now?")
            assert results(turns) == ["3"]


async def test_a_server_down_at_start_is_started_again_in_the_background(store: Store) -> None:
    port = free_port()
    server = late_server(port)
    async with running(store, [server], ["late__*"]) as (turns, mcp), serve_http(TOKEN, port):
        turns.llm.push(tool_call("send_message", message="Nothing to add."))
        await turns.say(public("C-ops"), "alice", "Hello.")
        assert not any(name.startswith("late__") for name in offered(turns, 0))
        await eventually(lambda: mcp.problem("late") == "", "the late server was started")

        turns.llm.push(tool_call("late__add", a=1, b=2), tool_call("send_message", message="3"))
        await turns.say(public("C-ops"), "alice", "1 + 2?")
        assert results(turns) == ["3"]
