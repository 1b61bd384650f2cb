"""A fake Discord gateway: the websocket half of ``FakeDiscord``.

Speaks what a bot's connection needs: HELLO, IDENTIFY -> READY + GUILD_CREATE, heartbeats,
DISPATCH events with sequence numbers, RESUME (replaying what the bot missed, as Discord does)
and INVALID_SESSION. Events dispatched while the bot is disconnected are kept and replayed on
resume, so tests can cut the connection mid-turn and check nothing is lost or doubled.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from tests.fakes import discord_payloads as p

OP_DISPATCH = 0
OP_HEARTBEAT = 1
OP_IDENTIFY = 2
OP_RESUME = 6
OP_RECONNECT = 7
OP_INVALID_SESSION = 9
OP_HELLO = 10
OP_HEARTBEAT_ACK = 11

#: Close code Discord uses for "unknown error; reconnect and resume".
CLOSE_UNKNOWN_ERROR = 4000
CLOSE_AUTHENTICATION_FAILED = 4004
#: Seconds a test waits for the bot to (re)connect.
CONNECT_TIMEOUT = 10.0


def shard_of(guild_id: str, shard_count: int) -> int:
    """The shard Discord routes a guild's events to."""
    return (int(guild_id) >> 22) % shard_count


@dataclass
class GatewaySession:
    """One identified gateway session (one shard), with its event log for resuming."""

    session_id: str
    shard: tuple[int, int]
    intents: int
    events: list[tuple[int, str, p.Payload]] = field(default_factory=list)
    socket: web.WebSocketResponse | None = None

    @property
    def seq(self) -> int:
        return self.events[-1][0] if self.events else 0

    def log(self, name: str, data: p.Payload) -> tuple[int, str, p.Payload]:
        entry = (self.seq + 1, name, data)
        self.events.append(entry)
        return entry


class FakeGateway:
    """The gateway websocket endpoint; ``ready_payload`` and ``guilds`` come from the server."""

    def __init__(
        self,
        token: str,
        ready_payload: Callable[[str, tuple[int, int]], p.Payload],
        guilds: Callable[[], list[p.Payload]],
    ) -> None:
        self._token = token
        self._ready_payload = ready_payload
        self._guilds = guilds
        self.sessions: list[GatewaySession] = []
        self.identifies = 0
        self.resumes = 0
        self.heartbeats = 0
        self.invalidate_next_resume = False
        #: Cleared, RESUME requests wait until it is set again (to watch a bot while it is down).
        self.answer_resumes = asyncio.Event()
        self.answer_resumes.set()
        #: Cleared, IDENTIFY requests wait until it is set again (a bot that never gets ready).
        self.answer_identifies = asyncio.Event()
        self.answer_identifies.set()
        self.connected = asyncio.Condition()

    # -- test controls --------------------------------------------------------------------

    def session_for(self, guild_id: object) -> GatewaySession:
        """The latest session of the shard that owns ``guild_id`` (DMs go to shard 0)."""
        if not self.sessions:
            raise AssertionError("no bot has identified on the fake gateway")
        shard_count = self.sessions[-1].shard[1]
        routable = isinstance(guild_id, str) and guild_id.isdigit()  # a malformed one: shard 0
        shard_id = shard_of(guild_id, shard_count) if isinstance(guild_id, str) and routable else 0
        for session in reversed(self.sessions):
            if session.shard[0] == shard_id:
                return session
        raise AssertionError(f"no session for shard {shard_id}")

    async def dispatch(self, name: str, data: p.Payload) -> None:
        """Send an event now, or keep it for the resume if its shard is disconnected."""
        session = self.session_for(data.get("guild_id"))
        seq, _, _ = session.log(name, data)
        if session.socket is not None and not session.socket.closed:
            await _send(session.socket, OP_DISPATCH, data, seq=seq, name=name)

    async def edit_message(self, message: p.Payload, content: str) -> p.Payload:
        """Dispatch MESSAGE_UPDATE for ``message`` with its new ``content``, as Discord does
        after a person edits it (the whole message, with ``edited_timestamp`` set)."""
        edited = {**message, "content": content, "edited_timestamp": p.iso_now()}
        await self.dispatch("MESSAGE_UPDATE", edited)
        return edited

    async def delete_message(self, message: p.Payload) -> None:
        """Dispatch MESSAGE_DELETE for ``message``: Discord sends only its ids."""
        deleted = {"id": message["id"], "channel_id": message["channel_id"]}
        if "guild_id" in message:
            deleted["guild_id"] = message["guild_id"]
        await self.dispatch("MESSAGE_DELETE", deleted)

    async def bulk_delete(self, messages: list[p.Payload]) -> None:
        """Dispatch MESSAGE_DELETE_BULK, as Discord does when a moderator purges a channel."""
        first = messages[0]
        deleted = {"ids": [m["id"] for m in messages], "channel_id": first["channel_id"]}
        if "guild_id" in first:
            deleted["guild_id"] = first["guild_id"]
        await self.dispatch("MESSAGE_DELETE_BULK", deleted)

    async def send_frame(self, op: int, data: Any) -> None:
        """Send a bare frame on every live connection (a protocol fault, for robustness tests)."""
        for session in self.sessions:
            if session.socket is not None and not session.socket.closed:
                await _send(session.socket, op, data)

    async def disconnect(self, *, code: int = CLOSE_UNKNOWN_ERROR) -> None:
        """Cut every live connection the way a network blip or a Discord restart does."""
        for session in self.sessions:
            if session.socket is not None and not session.socket.closed:
                await session.socket.close(code=code)
            session.socket = None

    async def wait_connected(self, count: int) -> None:
        """Wait until ``count`` connections (identifies + resumes) have been established."""
        async with asyncio.timeout(CONNECT_TIMEOUT), self.connected:
            await self.connected.wait_for(lambda: self.identifies + self.resumes >= count)

    # -- protocol ------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        await _send(socket, OP_HELLO, {"heartbeat_interval": 41_250})
        session: GatewaySession | None = None
        async for frame in socket:
            if frame.type is not WSMsgType.TEXT:
                break
            packet = json.loads(frame.data)
            op, data = packet["op"], packet.get("d")
            if op == OP_HEARTBEAT:
                self.heartbeats += 1
                await _send(socket, OP_HEARTBEAT_ACK, None)
            elif op == OP_IDENTIFY:
                session = await self._identify(socket, data)
            elif op == OP_RESUME:
                session = await self._resume(socket, data)
        if session is not None and session.socket is socket:
            session.socket = None
        return socket

    async def _identify(
        self, socket: web.WebSocketResponse, data: p.Payload
    ) -> GatewaySession | None:
        await self.answer_identifies.wait()
        if data.get("token") != self._token:
            await socket.close(code=CLOSE_AUTHENTICATION_FAILED, message=b"Authentication failed")
            return None
        shard = tuple(data.get("shard") or (0, 1))
        session = GatewaySession(
            session_id=p.snowflake(), shard=(shard[0], shard[1]), intents=data["intents"]
        )
        session.socket = socket
        self.sessions.append(session)
        seq, _, ready = session.log("READY", self._ready_payload(session.session_id, session.shard))
        await _send(socket, OP_DISPATCH, ready, seq=seq, name="READY")
        for guild in self._guilds():
            if shard_of(guild["id"], session.shard[1]) != session.shard[0]:
                continue
            seq, _, _ = session.log("GUILD_CREATE", guild)
            await _send(socket, OP_DISPATCH, guild, seq=seq, name="GUILD_CREATE")
        await self._count(identified=True)
        return session

    async def _resume(
        self, socket: web.WebSocketResponse, data: p.Payload
    ) -> GatewaySession | None:
        await self.answer_resumes.wait()
        known = next((s for s in self.sessions if s.session_id == data.get("session_id")), None)
        if self.invalidate_next_resume or known is None or data.get("token") != self._token:
            self.invalidate_next_resume = False
            await asyncio.sleep(0.05)  # Discord waits 1-5 s; the client must re-identify after.
            await _send(socket, OP_INVALID_SESSION, False)
            return None
        known.socket = socket
        for seq, name, event in known.events:
            if seq > (data.get("seq") or 0):
                await _send(socket, OP_DISPATCH, event, seq=seq, name=name)
        seq, _, _ = known.log("RESUMED", {})
        await _send(socket, OP_DISPATCH, {}, seq=seq, name="RESUMED")
        await self._count(identified=False)
        return known

    async def _count(self, *, identified: bool) -> None:
        async with self.connected:
            if identified:
                self.identifies += 1
            else:
                self.resumes += 1
            self.connected.notify_all()

    async def close_all(self) -> None:
        for session in self.sessions:
            if session.socket is not None and not session.socket.closed:
                await session.socket.close(code=WSCloseCode.GOING_AWAY)


async def _send(
    socket: web.WebSocketResponse,
    op: int,
    data: Any,
    *,
    seq: int | None = None,
    name: str | None = None,
) -> None:
    await socket.send_str(json.dumps({"op": op, "d": data, "s": seq, "t": name}))
