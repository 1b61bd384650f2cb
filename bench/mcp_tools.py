"""What one MCP tool call costs, over stdio and Streamable HTTP with a warm session, against a
custom tool run in the sandbox.

Each MCP row calls a tool that adds two numbers exactly as the agent loop does
(``Tool.invoke`` with a turn's context), alternating call by call with the same server called
through the SDK's client alone, so machine noise hits both alike and the difference is what
Mnemo adds. Both servers are the SDK's own ``MCPServer`` in processes of their own. Prints
p50/p95 in milliseconds.

    .venv/bin/python -m bench.mcp_tools [--calls 300]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx2
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from engine.agent.creation import create_agent
from engine.agent.memory import TurnMemory
from engine.audience import Audience, AudienceKind
from engine.records import Author, utcnow
from engine.store import open_store
from engine.store.protocol import Store
from engine.tools.base import Tool, ToolContext
from engine.tools.custom import tool_from_source
from engine.tools.mcp import McpServerSpec
from engine.tools.mcp._provider import McpTools
from engine.tools.sandbox import Sandbox, SandboxedTool, SandboxLimits
from tests.fakes.embedder import HashEmbedder

TOKEN = "bench-token"
ADD_SOURCE = '''
def add(a: int, b: int) -> int:
    """Add two whole numbers."""
    return a + b
'''
ARGUMENTS = '{"a": 2, "b": 3}'
SERVER = ("-m", "tests.fakes.mcp_server")

type Call = Callable[[], Awaitable[None]]


async def timings(calls: int, *steps: Call) -> list[list[float]]:
    """Milliseconds of each call of each step, the steps taking turns, after a warm-up."""
    for step in steps:
        for _ in range(5):
            await step()
    spent: list[list[float]] = [[] for _ in steps]
    for _ in range(calls):
        for step, kept in zip(steps, spent, strict=True):
            started = time.perf_counter()
            await step()
            kept.append((time.perf_counter() - started) * 1000)
    return spent


def row(label: str, spent: list[float]) -> str:
    p50 = statistics.median(spent)
    p95 = statistics.quantiles(spent, n=20)[-1] if len(spent) >= 20 else max(spent)
    return f"{label:<40} {p50:>8.2f} {p95:>8.2f} {len(spent):>6}"


async def turn_context(store: Store) -> ToolContext:
    """The context a public-channel turn gives its tools."""
    agent = await create_agent(store, "bench", model="bench-model")
    audience = Audience("bench:W1", AudienceKind.PUBLIC, "C-bench")
    speaker = Author("U-bench", "Bench")
    memory = TurnMemory(store.blocks, agent, audience, speaker=speaker, channel_name="bench")
    return ToolContext(
        agent=agent,
        audience=audience,
        speaker=speaker,
        memory=memory,
        store=store,
        embedder=HashEmbedder(),
        now=utcnow(),
    )


def as_agent(tool: Tool, ctx: ToolContext) -> Call:
    async def call() -> None:
        outcome = await tool.invoke(ctx, ARGUMENTS)
        assert outcome.output == "5", outcome.output

    return call


def through_sdk(client: Client) -> Call:
    async def call() -> None:
        result = await client.call_tool("add", {"a": 2, "b": 3})
        assert not result.is_error

    return call


@contextlib.asynccontextmanager
async def http_server() -> AsyncIterator[str]:
    """The fake MCP server over Streamable HTTP in a process of its own; yields its URL."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *SERVER,
        "--http-token",
        TOKEN,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdin is not None
    assert process.stdout is not None
    try:
        async with asyncio.timeout(60):
            url = (await process.stdout.readline()).decode().strip()
        yield url
    finally:
        process.stdin.close()
        async with asyncio.timeout(20):
            await process.wait()


async def main(calls: int, sandbox_calls: int) -> None:
    results: list[tuple[str, list[float]]] = []
    with tempfile.TemporaryDirectory() as data:
        store = await open_store(mongodb_uri=None, data_dir=Path(data))
        try:
            ctx = await turn_context(store)
            async with http_server() as url:
                servers = [
                    McpServerSpec(name="stdio", command=sys.executable, args=SERVER),
                    McpServerSpec(name="http", url=url, headers={"Authorization": "TOKEN"}),
                ]
                mcp = McpTools(servers, {"TOKEN": f"Bearer {TOKEN}"})
                await mcp.start()
                headers = {"Authorization": f"Bearer {TOKEN}"}
                try:
                    async with (
                        Client(StdioServerParameters(command=sys.executable, args=[*SERVER])) as s,
                        httpx2.AsyncClient(headers=headers) as http,
                        Client(streamable_http_client(url, http_client=http)) as h,
                    ):
                        stdio_tool = mcp.server_tools("stdio")["stdio__add"]
                        http_tool = mcp.server_tools("http")["http__add"]
                        mine, sdk = await timings(calls, as_agent(stdio_tool, ctx), through_sdk(s))
                        results += [("MCP stdio, as the agent calls it", mine)]
                        results += [("MCP stdio, SDK client alone", sdk)]
                        mine, sdk = await timings(calls, as_agent(http_tool, ctx), through_sdk(h))
                        results += [("MCP HTTP, as the agent calls it", mine)]
                        results += [("MCP HTTP, SDK client alone", sdk)]
                finally:
                    await mcp.aclose()
            custom = SandboxedTool(
                tool_from_source(ADD_SOURCE, "add", origin="bench"), Sandbox(), SandboxLimits()
            )
            (spent,) = await timings(sandbox_calls, as_agent(custom, ctx))
            results.append(("custom tool in the sandbox", spent))
        finally:
            await store.close()
    print(f"{'one call of add(2, 3)':<40} {'p50 ms':>8} {'p95 ms':>8} {'calls':>6}")
    for label, spent in results:
        print(row(label, spent))
    p50 = {label: statistics.median(spent) for label, spent in results}
    for transport in ("stdio", "HTTP"):
        added = (
            p50[f"MCP {transport}, as the agent calls it"]
            - p50[f"MCP {transport}, SDK client alone"]
        )
        print(f"Mnemo's share of an MCP {transport} call (p50): {added:+.2f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--sandbox-calls", type=int, default=30)
    args = parser.parse_args()
    asyncio.run(main(args.calls, args.sandbox_calls))
