"""A fake Slack Socket Mode server: a real websocket on an ephemeral port.

Point the fake Web API's ``apps.connections.open`` at ``url``; once a client connects the
server says ``hello``, then ``send_event`` wraps an Events API body in an envelope, and
``acked`` tells which envelopes the client acknowledged.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web


@dataclass(slots=True)
class FakeSocketMode:
    acks: dict[str, dict[str, Any]] = field(default_factory=dict)
    _clients: list[web.WebSocketResponse] = field(default_factory=list)
    _connected: asyncio.Event = field(default_factory=asyncio.Event)
    _acked: asyncio.Condition = field(default_factory=asyncio.Condition)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _runner: web.AppRunner | None = None
    _port: int = 0

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self._port}/link/?ticket=fake"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/link/", self._link)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        for ws in list(self._clients):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def connected(self) -> bool:
        """Whether a client is connected now."""
        return any(not ws.closed for ws in self._clients)

    async def drop(self) -> None:
        """Cut every client's connection, as a network blip does; the server stays up."""
        for ws in list(self._clients):
            await ws.close(code=WSCloseCode.GOING_AWAY)

    async def wait_connected(self, within: float = 10.0) -> None:
        async with asyncio.timeout(within):
            await self._connected.wait()

    async def send_event(self, body: dict[str, Any], retry_attempt: int = 0) -> str:
        """Deliver an Events API body to the connected client; returns its envelope id."""
        envelope_id = f"env-{next(self._ids)}"
        envelope = {
            "envelope_id": envelope_id,
            "type": "events_api",
            "accepts_response_payload": False,
            "retry_attempt": retry_attempt,
            "retry_reason": "timeout" if retry_attempt else "",
            "payload": body,
        }
        await self._clients[-1].send_str(json.dumps(envelope))
        return envelope_id

    async def wait_acked(self, envelope_id: str, within: float = 10.0) -> dict[str, Any]:
        async with asyncio.timeout(within), self._acked:
            await self._acked.wait_for(lambda: envelope_id in self.acks)
            return self.acks[envelope_id]

    async def _link(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._clients.append(ws)
        await ws.send_str(
            json.dumps({"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A1"}})
        )
        self._connected.set()
        async for frame in ws:
            if frame.type is not WSMsgType.TEXT:
                continue
            reply = json.loads(frame.data)
            if "envelope_id" in reply:
                async with self._acked:
                    self.acks[reply["envelope_id"]] = reply
                    self._acked.notify_all()
        self._clients.remove(ws)
        return ws
