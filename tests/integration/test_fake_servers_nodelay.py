"""The fake HTTP servers answer without Nagle's delay on kept-alive connections.

A server that sends a response in more than one write on a socket without TCP_NODELAY waits
for the client's delayed ACK (~40 ms) before the second write on every reused connection,
which would dwarf everything the benchmarks measure. Each fake must therefore answer on
sockets with TCP_NODELAY set; this checks the option on the server's end of a live connection.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import pytest

from tests.e2e.platform_sink import PlatformSink
from tests.fakes.discord_rest import FakeDiscord
from tests.fakes.mcp_server import serve_http
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack_api import FakeSlackApi

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="finds the server's socket in /proc/self/fd"
)


@asynccontextmanager
async def openai_fake() -> AsyncIterator[tuple[int, str]]:
    async with FakeOpenAI() as llm:
        yield llm.port, "/v1/models"


@asynccontextmanager
async def slack_fake() -> AsyncIterator[tuple[int, str]]:
    slack = FakeSlackApi()
    await slack.start()
    try:
        yield int(slack.root_url.rsplit(":", 1)[1]), "/api/auth.test"
    finally:
        await slack.stop()


@asynccontextmanager
async def discord_fake() -> AsyncIterator[tuple[int, str]]:
    async with FakeDiscord().running() as discord:
        yield int(discord.base_url.rsplit(":", 1)[1]), "/api/v10/gateway"


@asynccontextmanager
async def platform_sink() -> AsyncIterator[tuple[int, str]]:
    async with PlatformSink() as sink:
        yield sink.port, "/"


def server_nodelay(server: tuple[str, int], client: tuple[str, int]) -> int | None:
    """TCP_NODELAY on this process's end of the ``client`` -> ``server`` connection."""
    for name in os.listdir("/proc/self/fd"):
        try:
            candidate = socket.fromfd(int(name), socket.AF_INET, socket.SOCK_STREAM)
        except OSError:
            continue
        with candidate:
            try:
                if candidate.getsockname() == server and candidate.getpeername() == client:
                    return candidate.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
            except OSError:
                continue
    return None


@asynccontextmanager
async def mcp_fake() -> AsyncIterator[tuple[int, str]]:
    async with serve_http("nodelay") as url:
        yield int(url.rsplit(":", 1)[1].split("/", 1)[0]), "/mcp"


@pytest.mark.parametrize("fake", [openai_fake, slack_fake, discord_fake, platform_sink, mcp_fake])
async def test_accepted_sockets_send_without_nagle_delay(
    fake: Callable[[], AbstractAsyncContextManager[tuple[int, str]]],
) -> None:
    async with fake() as (port, path):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n"
            writer.write(request.encode())
            await writer.drain()
            async with asyncio.timeout(5):
                status = await reader.readline()
            assert status.startswith(b"HTTP/1.1 "), status
            nodelay = server_nodelay(("127.0.0.1", port), writer.get_extra_info("sockname"))
            assert nodelay is not None, "the fake's end of the connection was not found"
            assert nodelay != 0, "the fake answers on a socket subject to Nagle's delay"
        finally:
            writer.close()
            await writer.wait_closed()
