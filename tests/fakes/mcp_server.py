"""A real MCP server built with the SDK's own ``MCPServer``, for tests and benchmarks.

Over stdio, as an operator would declare it::

    command: python, args: [-m, tests.fakes.mcp_server]          # add --fail-at-start to fail

Over Streamable HTTP, in-process on a local port (requests without the bearer token are
refused with 401, so tests see headers read from named variables)::

    async with serve_http(token="t0ken") as url:   # http://127.0.0.1:PORT/mcp
        ...

or in a process of its own: ``python -m tests.fakes.mcp_server --http-token t0ken`` prints the
URL and serves until its stdin closes.

Its tools misbehave on request: ``crash`` kills the server mid-call, ``hang`` never answers,
``huge`` answers megabytes, ``grow`` adds a tool and announces the change, and ``broken`` is
listed with a schema no model could use.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator
from typing import Any

import uvicorn
from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import Tool as ListedTool
from starlette.types import ASGIApp, Receive, Scope, Send

#: The variable the ``secret`` tool reads, to show what a stdio server's environment holds.
SECRET_VARIABLE = "FAKE_MCP_SECRET"


class FakeMcpServer(MCPServer):
    """``MCPServer`` whose listing can carry a tool with a broken input schema."""

    async def list_tools(self) -> list[ListedTool]:
        listed = await super().list_tools()
        return [
            tool.model_copy(
                update={"input_schema": {"type": "object", "properties": {"text": "words"}}}
            )
            if tool.name == "broken"
            else tool
            for tool in listed
        ]


def build_server() -> FakeMcpServer:
    server = FakeMcpServer("fake-tools")

    @server.tool()
    def add(a: int, b: int) -> int:
        """Add two whole numbers."""
        return a + b

    @server.tool(name="look.up")
    def look_up(query: str) -> str:
        """Look a word up (its name has a character models may not use)."""
        return f"found: {query}"

    @server.tool()
    def secret() -> str:
        """The value of the server's secret environment variable, and whether it sees HOME's
        siblings from the bot (it should not)."""
        leaked = sorted(k for k in os.environ if k.startswith("LEAK_"))
        return f"{os.environ.get(SECRET_VARIABLE, '<unset>')} leaked={leaked}"

    @server.tool()
    def crash() -> str:
        """Kill the server in the middle of the call."""
        print("fake-tools: crashing on purpose", file=sys.stderr, flush=True)
        os._exit(3)

    @server.tool()
    async def hang() -> str:
        """Never answer."""
        await asyncio.sleep(3600)
        return "too late"

    @server.tool()
    def huge(size: int) -> str:
        """Answer ``size`` characters."""
        return "y" * size

    @server.tool()
    def fail(reason: str) -> str:
        """Fail with ``reason`` (an error result, not a crash)."""
        raise ToolError(reason)

    @server.tool()
    def broken(text: str) -> str:
        """Listed with an input schema whose property is not a schema."""
        return text

    @server.tool()
    async def grow(ctx: Context) -> str:
        """Add the ``shrink`` tool and tell the client its tools changed."""

        def shrink(text: str) -> str:
            """Lower-case text."""
            return text.lower()

        server.add_tool(shrink)
        await ctx.notify_tools_changed()
        await ctx.session.send_tool_list_changed()
        return "grown"

    return server


class _BearerOnly:
    """Refuses requests that lack ``Authorization: Bearer <token>``."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self._app = app
        self._expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and dict(scope["headers"]).get(b"authorization") != (
            self._expected
        ):
            await send({"type": "http.response.start", "status": 401, "headers": []})
            await send({"type": "http.response.body", "body": b"missing or wrong token"})
            return
        await self._app(scope, receive, send)


@contextlib.asynccontextmanager
async def serve_http(token: str, port: int = 0) -> AsyncIterator[str]:
    """Serve the fake over Streamable HTTP on ``port`` (0: a free one); yields its URL."""
    app: Any = _BearerOnly(build_server().streamable_http_app(), token)
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
        # Clients may still hold a session open: stopping does not wait for them.
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(20):
            while not server.started:
                if task.done():
                    task.result()
                await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 20)


async def _serve_http_until_stdin_closes(token: str) -> None:
    async with serve_http(token) as url:
        print(url, flush=True)
        await asyncio.to_thread(sys.stdin.read)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fail-at-start", action="store_true")
    parser.add_argument(
        "--http-token",
        help="serve Streamable HTTP on a free port instead of stdio; print the URL, stop at EOF",
    )
    args = parser.parse_args()
    if args.fail_at_start:
        print("fake-tools: cannot start, no configuration", file=sys.stderr)
        raise SystemExit(2)
    if args.http_token:
        asyncio.run(_serve_http_until_stdin_closes(args.http_token))
    else:
        build_server().run("stdio")


if __name__ == "__main__":
    main()
