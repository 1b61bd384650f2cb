"""One MCP server's warm session: started once, its tool listing kept current, calls bounded.

The SDK's client must be entered and left in one task, so each session lives in a task of its
own (``_hold``) that other tasks call through. A server that crashes is started again on the
next call (at most once per ``RETRY_AFTER`` seconds); one that changes its tools is listed
again when it says so (``notifications/tools/list_changed``, or a ``subscriptions/listen``
event on 2026 servers).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, TextIO

import httpx2
import mcp_types as types
from mcp import Client, StdioServerParameters
from mcp.client.session import IncomingMessage
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.client.subscriptions import ListenNotSupportedError, SubscriptionLost
from mcp.shared.exceptions import MCPError

from engine.tools.mcp._names import namespaced_names
from engine.tools.mcp._servers import McpServerError, McpServerSpec

log = logging.getLogger(__name__)

#: Seconds to wait for a server to start and list its tools.
START_TIMEOUT = 20.0
#: Seconds between two attempts to start a server that is down.
RETRY_AFTER = 5.0
_MAX_PAGES = 100
_STDERR_TAIL = 400
#: Bytes of a stdio server's stderr kept before it is emptied.
_STDERR_KEEP = 1 << 20


class McpCallError(Exception):
    """A call that reached no answer: the server is down, crashed, or did not answer in time."""


class McpConnection:
    """A warm session with one server, shared by every turn that calls its tools."""

    def __init__(
        self,
        spec: McpServerSpec,
        environ: Mapping[str, str],
        *,
        start_timeout: float = START_TIMEOUT,
        retry_after: float = RETRY_AFTER,
        on_listing: Callable[[McpConnection], None] = lambda _: None,
    ) -> None:
        self.spec = spec
        self._environ = environ
        self._start_timeout = start_timeout
        self._retry_after = retry_after
        self._on_listing = on_listing
        #: The server's tools as it last listed them.
        self.tools: tuple[types.Tool, ...] = ()
        #: Bumped each time the listing changes (the first listing is version 1).
        self.listing_version = 0
        #: Why the server is not connected ('' while it is).
        self.problem = "not started"
        self._client: Client | None = None
        self._task: asyncio.Task[None] | None = None
        self._closing = asyncio.Event()
        self._changed = asyncio.Event()
        self._starting = asyncio.Lock()
        self._last_attempt = float("-inf")
        self._stderr: TextIO | None = None
        self._revival: asyncio.Task[None] | None = None

    @property
    def connected(self) -> bool:
        return self._client is not None

    async def start(self) -> None:
        """Start the session and list the tools; on failure ``problem`` says why."""
        async with self._starting:
            await self._start()

    async def call(self, tool: str, arguments: dict[str, Any]) -> types.CallToolResult:
        """Call ``tool`` within the server's time limit; raises ``McpCallError`` when no
        answer came back."""
        client = self._client or await self._restart()
        self._trim_stderr()
        timeout = self.spec.timeout
        try:
            async with asyncio.timeout(timeout + 1):
                return await client.call_tool(tool, arguments, read_timeout_seconds=timeout)
        except TimeoutError:
            raise McpCallError(f"did not answer within {timeout:g} s") from None
        except MCPError as exc:
            if exc.code == types.REQUEST_TIMEOUT:
                raise McpCallError(f"did not answer within {timeout:g} s") from None
            if exc.code == types.CONNECTION_CLOSED:
                self._lost(f"the server closed the connection{self._last_words()}")
                raise McpCallError(f"crashed during the call{self._last_words()}") from None
            raise McpCallError(f"refused the call: {exc.error.message}") from None

    def revive(self) -> None:
        """Start a server that is down again, in the background, at most once every
        ``retry_after`` seconds (so a server that came up after the bot is found)."""
        due = self._last_attempt + self._retry_after <= time.monotonic()
        if self._client is None and due and (self._revival is None or self._revival.done()):
            self._revival = asyncio.create_task(self._start_if_down())

    async def _start_if_down(self) -> None:
        async with self._starting:
            if self._client is None:
                await self._start()

    async def listed_as(self, name: str) -> types.Tool:
        """The tool offered as ``name``, starting the server first if it is down; raises
        ``McpCallError`` when it cannot be started or does not list such a tool."""
        if self._client is None:
            await self._restart()
        names = namespaced_names(self.spec.name, (tool.name for tool in self.tools))
        for tool in self.tools:
            if names[tool.name] == name:
                return tool
        raise McpCallError(f"lists no tool offered as {name}")

    async def aclose(self) -> None:
        if self._revival is not None:
            self._revival.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._revival
        await self._stop()
        if self._stderr is not None:
            self._stderr.close()

    # -- the session task ------------------------------------------------------------------------

    async def _restart(self) -> Client:
        async with self._starting:
            if self._client is None:
                wait = self._last_attempt + self._retry_after - time.monotonic()
                if wait > 0:
                    raise McpCallError(f"is not running ({self.problem}); retrying in {wait:.0f} s")
                await self._start()
        if self._client is None:
            raise McpCallError(f"is not running ({self.problem})")
        return self._client

    async def _start(self) -> None:
        await self._stop()
        self._last_attempt = time.monotonic()
        self._closing = asyncio.Event()
        ready = asyncio.Event()
        self._task = asyncio.create_task(self._hold(ready), name=f"mcp server {self.spec.name}")
        done = asyncio.create_task(ready.wait())
        try:
            await asyncio.wait(
                {self._task, done}, timeout=self._start_timeout, return_when="FIRST_COMPLETED"
            )
        finally:
            done.cancel()
        if not ready.is_set() and not self._task.done():
            self.problem = f"did not start within {self._start_timeout:g} s{self._last_words()}"
            await self._stop()
        if self.problem:
            log.warning("MCP server %s: %s", self.spec.name, self.problem)

    async def _stop(self) -> None:
        task, self._task = self._task, None
        self._client = None
        if task is None:
            return
        self._closing.set()
        try:
            async with asyncio.timeout(5):
                await task
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _hold(self, ready: asyncio.Event) -> None:
        closing = self._closing
        try:
            async with self._session() as client:
                await self._list(client)
                self._client, self.problem = client, ""
                ready.set()
                async with asyncio.TaskGroup() as group:
                    watchers = [
                        group.create_task(self._refresh_on_change(client)),
                        group.create_task(self._listen(client)),
                    ]
                    await closing.wait()
                    for watcher in watchers:
                        watcher.cancel()
        except Exception as exc:  # the server's failure, whatever its shape, is reported
            self.problem = _describe(exc) + self._last_words()
            if ready.is_set():  # a failure to start is logged by _start
                log.warning("MCP server %s stopped: %s", self.spec.name, self.problem)
        finally:
            self._client = None

    @contextlib.asynccontextmanager
    async def _session(self) -> AsyncIterator[Client]:
        spec = self.spec
        async with contextlib.AsyncExitStack() as stack:
            if spec.command:
                if self._stderr is None:
                    # Outlives each session, so a crash's last words can be read after it;
                    # closed by aclose.
                    self._stderr = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115
                    # Appending, the server's writes follow each truncation (_trim_stderr).
                    fd = self._stderr.fileno()
                    fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_APPEND)
                self._stderr.seek(0)
                self._stderr.truncate()
                parameters = StdioServerParameters(
                    command=spec.command, args=list(spec.args), env=spec.resolved_env(self._environ)
                )
                transport: Any = stdio_client(parameters, errlog=self._stderr)
            else:
                http = await stack.enter_async_context(
                    httpx2.AsyncClient(
                        headers=spec.resolved_headers(self._environ),
                        timeout=httpx2.Timeout(30.0, read=300.0),
                    )
                )
                transport = streamable_http_client(spec.url, http_client=http)
            client = Client(transport, message_handler=self._on_message, cache=None)
            yield await stack.enter_async_context(client)

    async def _on_message(self, message: IncomingMessage) -> None:
        if isinstance(message, types.ToolListChangedNotification):
            self._changed.set()

    async def _listen(self, client: Client) -> None:
        """Keep a 2026 server's change stream open (earlier servers notify unasked)."""
        try:
            async with client.listen(tools_list_changed=True) as subscription:
                async for _ in subscription:
                    self._changed.set()
        except (ListenNotSupportedError, SubscriptionLost, MCPError):
            return

    async def _refresh_on_change(self, client: Client) -> None:
        while True:
            await self._changed.wait()
            self._changed.clear()
            try:
                await self._list(client)
            except (MCPError, ValueError) as exc:
                log.warning("MCP server %s: listing its tools failed: %s", self.spec.name, exc)

    async def _list(self, client: Client) -> None:
        tools: list[types.Tool] = []
        cursor: str | None = None
        for _ in range(_MAX_PAGES):
            page = await client.list_tools(cursor=cursor)
            tools.extend(page.tools)
            cursor = page.next_cursor
            if cursor is None:
                break
        if tuple(tools) != self.tools or not self.listing_version:
            self.tools = tuple(tools)
            self.listing_version += 1
            self._on_listing(self)

    def _lost(self, why: str) -> None:
        log.warning("MCP server %s: %s; it is started again at the next call", self.spec.name, why)
        self._client = None
        self.problem = why
        self._closing.set()

    def _trim_stderr(self) -> None:
        """Keep a chatty server's stderr from filling the disk over a long session."""
        if self._stderr is not None and os.fstat(self._stderr.fileno()).st_size > _STDERR_KEEP:
            os.ftruncate(self._stderr.fileno(), 0)

    def _last_words(self) -> str:
        """The end of what a stdio server wrote to stderr, for the error message."""
        if self._stderr is None:
            return ""
        fd = self._stderr.fileno()
        start = max(0, os.fstat(fd).st_size - _STDERR_TAIL)
        tail = " ".join(os.pread(fd, _STDERR_TAIL, start).decode("utf-8", "replace").split())
        return f" (it wrote: {tail})" if tail else ""


def _describe(exc: BaseException) -> str:
    """What went wrong, in words: the first real error inside the SDK's exception groups."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    if isinstance(exc, McpServerError):
        return str(exc)
    if isinstance(exc, FileNotFoundError):
        return f"the command was not found ({exc.filename or exc})"
    if isinstance(exc, MCPError) and exc.code == types.CONNECTION_CLOSED:
        return "the server exited before it answered"
    if isinstance(exc, httpx2.HTTPError):
        return f"cannot reach the server ({type(exc).__name__}: {exc})"
    return f"{type(exc).__name__}: {exc}"
