"""A fake chat platform for bot processes: posts replies, deduping by the reply's id the way
Discord's ``nonce`` + ``enforce_nonce`` and Slack's ``client_msg_id`` do, and can hold a
delivery before or after posting it, so a test can kill the bot at exactly that point."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from enum import StrEnum
from types import TracebackType
from typing import Any, Self

import aiohttp
from aiohttp import web

from engine.ports import DeliveryError
from engine.records import Inbound, Outbound


class Hold(StrEnum):
    NONE = "none"
    #: The request waits before the platform posts anything (dropped if the client goes away).
    BEFORE_POST = "before_post"
    #: The message is posted, then the answer waits: the client never learns it was posted.
    AFTER_POST = "after_post"


@dataclass(frozen=True, slots=True)
class Post:
    nonce: str
    channel: str
    thread: str
    text: str


@dataclass
class PlatformSink:
    hold: Hold = Hold.NONE
    posts: list[Post] = field(default_factory=list)
    #: Every delivery request by nonce, including redeliveries the platform deduped.
    requests: list[str] = field(default_factory=list)
    port: int = 0
    _held: int = 0
    _released: asyncio.Event = field(default_factory=asyncio.Event)
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    _runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_post("/post", self._post)
        self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.2)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert isinstance(server, asyncio.Server)
        self.port = server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._released.set()
        if self._runner is not None:
            await self._runner.cleanup()

    def hold_deliveries(self, hold: Hold) -> None:
        self.hold = hold
        self._released.clear()

    def release(self) -> None:
        self.hold = Hold.NONE
        self._released.set()

    async def wait_held(self, count: int = 1) -> None:
        await self._wait_until(lambda: self._held >= count)

    async def wait_posts(self, count: int) -> None:
        await self._wait_until(lambda: len(self.posts) >= count)

    def posts_of(self, text: str) -> list[Post]:
        return [post for post in self.posts if text in post.text]

    async def _wait_until(self, predicate: Any) -> None:
        async with self._changed:
            await self._changed.wait_for(predicate)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _post(self, request: web.Request) -> web.Response:
        body = await request.json()
        nonce = str(body["nonce"])
        self.requests.append(nonce)
        hold = self.hold
        if hold is Hold.BEFORE_POST:
            await self._held_until_released()
            if request.transport is None or request.transport.is_closing():
                return web.json_response({"ok": False}, status=499)
        ref = self._record(nonce, body)
        await self._notify()
        if hold is Hold.AFTER_POST:
            await self._held_until_released()
        return web.json_response({"ok": True, "ts": ref})

    async def _held_until_released(self) -> None:
        self._held += 1
        await self._notify()
        try:
            await self._released.wait()
        finally:
            self._held -= 1

    def _record(self, nonce: str, body: dict[str, Any]) -> str:
        for index, post in enumerate(self.posts):
            if post.nonce == nonce:
                return f"ts-{index}"
        self.posts.append(Post(nonce, body["channel"], body["thread"], body["text"]))
        return f"ts-{len(self.posts) - 1}"


class SinkPort:
    """The bot side: ``PlatformPort`` posting to a ``PlatformSink`` with the reply id as nonce."""

    platform = "test"

    def __init__(self, url: str) -> None:
        self._url = url
        self._http: aiohttp.ClientSession | None = None

    async def deliver(self, reply: Outbound) -> str:
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None))
        payload = {
            "nonce": reply.id,
            "channel": reply.channel,
            "thread": reply.thread,
            "text": reply.text,
        }
        try:
            async with self._http.post(f"{self._url}/post", json=payload) as response:
                body = await response.json()
        except aiohttp.ClientError as exc:
            raise DeliveryError(f"platform unreachable: {exc}") from exc
        if not body.get("ok"):
            raise DeliveryError(f"platform refused the post ({response.status})")
        return str(body["ts"])

    @contextlib.asynccontextmanager
    async def working(self, inbound: Inbound) -> AsyncIterator[None]:
        yield

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.close()
