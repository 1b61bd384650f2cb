"""A fake Discord: the REST API (v10) and the gateway, on one local aiohttp server.

Point discord.py at it with ``DiscordConfig(api_base=fake.api_base, gateway_url=fake.gateway_url)``.
It keeps what the bot posted, honours ``nonce`` + ``enforce_nonce`` the way Discord does (a
second create with the same nonce by the same author returns the first message), rejects
messages over 2,000 characters, and can answer 429 to test rate-limit handling. Files people
attached to their messages are served from its CDN path (``/attachments/...``), which, like
Discord's, needs no bot token.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import BodyPartReader, web

from tests.fakes import discord_payloads as p
from tests.fakes.discord_gateway import FakeGateway, shard_of

MAX_CONTENT = 2000
MAX_NONCE = 25
EPHEMERAL = 1 << 6


@dataclass
class PostedMessage:
    """A message the bot created (in a channel or as an interaction follow-up)."""

    payload: p.Payload
    files: dict[str, bytes] = field(default_factory=dict)
    #: The mentions the bot allowed this message to ping (None: Discord's default, all).
    allowed_mentions: p.Payload | None = None

    @property
    def id(self) -> str:
        return str(self.payload["id"])

    @property
    def content(self) -> str:
        return str(self.payload.get("content") or "")

    @property
    def reply_to(self) -> str | None:
        reference = self.payload.get("message_reference")
        return str(reference["message_id"]) if reference else None

    @property
    def ephemeral(self) -> bool:
        return bool(int(self.payload.get("flags") or 0) & EPHEMERAL)


class FakeDiscord:
    """Discord for one bot: its user, application, guilds, and everything it sends."""

    def __init__(self, *, token: str = "fake-bot-token", shards: int = 1) -> None:
        self.token = token
        self.shards = shards
        self.bot = p.user(p.snowflake(), "Mnemo", bot=True)
        self.application_id = p.snowflake()
        self.guilds: dict[str, p.Payload] = {}
        self.channels: dict[str, p.Payload] = {}
        self.messages: dict[str, list[PostedMessage]] = {}
        #: Channels' past messages by channel id (any order), read with what the bot posted
        #: by ``GET /channels/{id}/messages``; ``unreadable`` channels answer 403 there.
        self.archive: dict[str, list[p.Payload]] = {}
        self.unreadable: set[str] = set()
        self.followups: list[PostedMessage] = []
        #: Attached files by attachment id: (file name, bytes); and the ids downloaded.
        self.attachments: dict[str, tuple[str, bytes]] = {}
        self.downloads: list[str] = []
        self.edits: list[tuple[str, p.Payload]] = []
        #: Edits of channel messages: (message id, ``time.perf_counter()``, new content).
        self.message_edits: list[tuple[str, float, str]] = []
        self.interaction_callbacks: list[tuple[str, p.Payload]] = []
        self.typing: Counter[str] = Counter()
        self.commands: list[p.Payload] = []
        self.requests: Counter[str] = Counter()
        self.rate_limited: Counter[str] = Counter()
        self._rate_limit_plan: dict[str, tuple[int, float]] = {}
        self._failure_plan: dict[str, tuple[int, int]] = {}
        self._nonces: dict[tuple[str, str], PostedMessage] = {}
        self.gateway = FakeGateway(token, self._ready, lambda: list(self.guilds.values()))
        self.base_url = ""

    # -- world building ------------------------------------------------------------------

    def add_guild(self, guild: p.Payload) -> None:
        self.guilds[guild["id"]] = guild
        for channel in [*guild["channels"], *guild["threads"]]:
            self.channels[channel["id"]] = channel

    def add_dm(self, channel: p.Payload) -> None:
        self.channels[channel["id"]] = channel

    def attach(self, channel_id: str, name: str, data: bytes) -> p.Payload:
        """Keep a file someone attached to a message in ``channel_id``; the attachment
        object of their message."""
        attachment_id = p.snowflake()
        self.attachments[attachment_id] = (name, data)
        url = f"{self.base_url}/attachments/{channel_id}/{attachment_id}/{name}"
        return {
            "id": attachment_id,
            "filename": name,
            "size": len(data),
            "url": f"{url}?ex=ffffffff&is=00000000&hm=fake",
            "proxy_url": url,
            "content_type": "application/octet-stream",
        }

    def rate_limit(self, route: str, *, times: int, retry_after: float) -> None:
        """Answer the next ``times`` requests to ``route`` (e.g. ``POST /channels/1/messages``)
        with 429 and ``retry_after`` seconds."""
        self._rate_limit_plan[route] = (times, retry_after)

    def fail(self, route: str, *, times: int, status: int = 500) -> None:
        """Answer the next ``times`` requests to ``route`` with a server error, doing nothing."""
        self._failure_plan[route] = (times, status)

    # -- what the bot did ----------------------------------------------------------------

    def posted(self, channel_id: str) -> list[PostedMessage]:
        return self.messages.get(channel_id, [])

    def all_posted(self) -> list[PostedMessage]:
        return [m for posted in self.messages.values() for m in posted]

    @property
    def api_base(self) -> str:
        return f"{self.base_url}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"{self.base_url.replace('http://', 'ws://')}/gateway"

    # -- server --------------------------------------------------------------------------

    @asynccontextmanager
    async def running(self) -> AsyncIterator[FakeDiscord]:
        app = web.Application(middlewares=[self._authorize])
        api = "/api/v10"
        app.router.add_get("/gateway", self.gateway.handle)
        app.router.add_get("/attachments/{channel}/{attachment}/{name}", self._attachment)
        app.router.add_get(f"{api}/users/@me", self._me)
        app.router.add_get(f"{api}/oauth2/applications/@me", self._application)
        app.router.add_get(f"{api}/gateway/bot", self._gateway_bot)
        app.router.add_get(f"{api}/gateway", self._gateway_bot)
        app.router.add_get(api + "/channels/{channel}", self._get_channel)
        app.router.add_post(api + "/channels/{channel}/messages", self._create_message)
        app.router.add_get(api + "/channels/{channel}/messages", self._channel_history)
        app.router.add_post(api + "/channels/{channel}/typing", self._typing)
        app.router.add_patch(api + "/channels/{channel}/messages/{message}", self._edit_message)
        app.router.add_delete(api + "/channels/{channel}/messages/{message}", self._delete_message)
        app.router.add_put(api + "/applications/{app}/commands", self._sync_commands)
        app.router.add_post(api + "/interactions/{id}/{token}/callback", self._callback)
        app.router.add_post(api + "/webhooks/{app}/{token}", self._followup)
        app.router.add_patch(api + "/webhooks/{app}/{token}/messages/{message}", self._edit)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"
        try:
            yield self
        finally:
            await self.gateway.close_all()
            await runner.cleanup()

    @web.middleware
    async def _authorize(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if request.path == "/gateway" or request.path.startswith("/attachments/"):
            response: web.StreamResponse = await handler(request)
            return response
        route = f"{request.method} {request.path.removeprefix('/api/v10')}"
        self.requests[route] += 1
        webhook = request.path.startswith(("/api/v10/webhooks/", "/api/v10/interactions/"))
        if not webhook and request.headers.get("Authorization") != f"Bot {self.token}":
            return _error(401, 0, "401: Unauthorized")
        failures, status = self._failure_plan.get(route, (0, 500))
        if failures > 0:
            self._failure_plan[route] = (failures - 1, status)
            return _error(status, 0, f"{status}: Server Error")
        times, retry_after = self._rate_limit_plan.get(route, (0, 0.0))
        if times > 0:
            self._rate_limit_plan[route] = (times - 1, retry_after)
            self.rate_limited[route] += 1
            body = {"message": "You are being rate limited.", "retry_after": retry_after}
            headers = {
                "Retry-After": str(retry_after),
                "X-RateLimit-Limit": "5",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset-After": str(retry_after),
                "X-RateLimit-Bucket": "fake-bucket",
                "X-RateLimit-Scope": "user",
                # discord.py treats a 429 without Via as a Cloudflare ban, as Discord's come via it.
                "Via": "1.1 google",
            }
            return _json(body, status=429, headers=headers)
        response = await handler(request)
        return response

    def _ready(self, session_id: str, shard: tuple[int, int]) -> p.Payload:
        return {
            "v": 10,
            "user": self.bot,
            "guilds": [
                {"id": g, "unavailable": True}
                for g in self.guilds
                if shard_of(g, shard[1]) == shard[0]
            ],
            "session_id": session_id,
            "resume_gateway_url": self.gateway_url,
            "shard": list(shard),
            "application": {"id": self.application_id, "flags": 0},
            "private_channels": [],
            "relationships": [],
        }

    async def _attachment(self, request: web.Request) -> web.Response:
        attachment_id = request.match_info["attachment"]
        self.downloads.append(attachment_id)
        if attachment_id not in self.attachments:
            return web.Response(status=404, text="Not Found")
        return web.Response(body=self.attachments[attachment_id][1])

    async def _me(self, _: web.Request) -> web.Response:
        return _json(self.bot)

    async def _application(self, _: web.Request) -> web.Response:
        return _json(
            {
                "id": self.application_id,
                "name": "Mnemo",
                "description": "",
                "icon": None,
                "bot_public": True,
                "bot_require_code_grant": False,
                "owner": p.user(p.snowflake(), "owner"),
                "verify_key": "0" * 64,
                "flags": 0,
                "bot": self.bot,
            }
        )

    async def _gateway_bot(self, _: web.Request) -> web.Response:
        limit = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
        return _json({"url": self.gateway_url, "shards": self.shards, "session_start_limit": limit})

    async def _get_channel(self, request: web.Request) -> web.Response:
        channel = self.channels.get(request.match_info["channel"])
        if channel is None:
            return _error(404, 10003, "Unknown Channel")
        return _json(channel)

    async def _create_message(self, request: web.Request) -> web.Response:
        channel_id = request.match_info["channel"]
        channel = self.channels.get(channel_id)
        if channel is None:
            return _error(404, 10003, "Unknown Channel")
        body, files = await _read_body(request)
        content = str(body.get("content") or "")
        nonce = body.get("nonce")
        if len(content) > MAX_CONTENT:
            return _error(400, 50035, "Invalid Form Body: content must be 2000 or fewer in length.")
        if nonce is not None and len(str(nonce)) > MAX_NONCE:
            return _error(400, 50035, "Invalid Form Body: nonce must be 25 or fewer in length.")
        key = (self.bot["id"], str(nonce))
        if nonce is not None and body.get("enforce_nonce") and key in self._nonces:
            return _json(self._nonces[key].payload)
        reference = body.get("message_reference")
        payload = p.message(
            channel_id,
            self.bot,
            content,
            guild_id=channel.get("guild_id"),
            reference={**reference, "channel_id": channel_id} if reference else None,
            nonce=str(nonce) if nonce is not None else None,
        )
        payload["components"] = body.get("components") or []
        posted = PostedMessage(payload, files, body.get("allowed_mentions"))
        self.messages.setdefault(channel_id, []).append(posted)
        if nonce is not None:
            self._nonces[key] = posted
        return _json(payload)

    async def _channel_history(self, request: web.Request) -> web.Response:
        """A page of a channel's messages, newest first as Discord answers: the ``limit``
        newest before ``before`` (or the newest), or the ``limit`` oldest after ``after``."""
        channel_id = request.match_info["channel"]
        if channel_id not in self.channels:
            return _error(404, 10003, "Unknown Channel")
        if channel_id in self.unreadable:
            return _error(403, 50001, "Missing Access")
        posted = [m.payload for m in self.posted(channel_id)]
        ordered = sorted([*self.archive.get(channel_id, []), *posted], key=lambda m: int(m["id"]))
        limit = min(int(request.query.get("limit", 50)), 100)
        if "after" in request.query:
            after = int(request.query["after"])
            page = [m for m in ordered if int(m["id"]) > after][:limit]
        else:
            before = int(request.query.get("before", 1 << 64))
            page = [m for m in ordered if int(m["id"]) < before][-limit:]
        return _json(list(reversed(page)))

    def _channel_message(self, request: web.Request) -> PostedMessage | None:
        posted = self.messages.get(request.match_info["channel"], [])
        return next((m for m in posted if m.id == request.match_info["message"]), None)

    async def _edit_message(self, request: web.Request) -> web.Response:
        message = self._channel_message(request)
        if message is None:
            return _error(404, 10008, "Unknown Message")
        body, _ = await _read_body(request)
        content = str(body.get("content") or "")
        if len(content) > MAX_CONTENT:
            return _error(400, 50035, "Invalid Form Body: content must be 2000 or fewer in length.")
        self.message_edits.append((message.id, time.perf_counter(), content))
        message.payload["content"] = content
        message.payload["edited_timestamp"] = datetime.now(UTC).isoformat()
        return _json(message.payload)

    async def _delete_message(self, request: web.Request) -> web.Response:
        message = self._channel_message(request)
        if message is None:
            return _error(404, 10008, "Unknown Message")
        self.messages[request.match_info["channel"]].remove(message)
        return web.Response(status=204)

    async def _typing(self, request: web.Request) -> web.Response:
        self.typing[request.match_info["channel"]] += 1
        return web.Response(status=204)

    async def _sync_commands(self, request: web.Request) -> web.Response:
        commands = await request.json()
        if (problem := next(filter(None, map(_command_problem, commands)), None)) is not None:
            return _error(400, 50035, f"Invalid Form Body: {problem}")
        self.commands = [
            {
                "description": "",  # message and user commands have none; Discord sends ""
                **command,
                "id": p.snowflake(),
                "application_id": self.application_id,
                "version": p.snowflake(),
                "default_member_permissions": None,
            }
            for command in commands
        ]
        return _json(self.commands)

    def command_id(self, name: str) -> str:
        return next(str(c["id"]) for c in self.commands if c["name"] == name)

    async def _callback(self, request: web.Request) -> web.Response:
        body, _ = await _read_body(request)
        interaction_id = request.match_info["id"]
        self.interaction_callbacks.append((interaction_id, body))
        flags = int((body.get("data") or {}).get("flags") or 0)
        return _json(
            {
                "interaction": {
                    "id": interaction_id,
                    "type": body.get("type"),
                    "response_message_loading": body.get("type") == 5,
                    "response_message_ephemeral": bool(flags & EPHEMERAL),
                }
            }
        )

    async def _followup(self, request: web.Request) -> web.Response:
        body, files = await _read_body(request)
        payload = p.message("0", self.bot, str(body.get("content") or ""))
        payload["flags"] = int(body.get("flags") or 0)
        payload["components"] = body.get("components") or []
        payload["webhook_id"] = request.match_info["app"]
        posted = PostedMessage(payload, files)
        self.followups.append(posted)
        return _json(payload)

    async def _edit(self, request: web.Request) -> web.Response:
        body, _ = await _read_body(request)
        message_id = request.match_info["message"]
        self.edits.append((message_id, body))
        payload = p.message("0", self.bot, str(body.get("content") or ""), message_id=p.snowflake())
        return _json(payload)


async def _read_body(request: web.Request) -> tuple[p.Payload, dict[str, bytes]]:
    """A JSON body, or a multipart one (``payload_json`` plus ``files[n]``) as discord.py sends."""
    if not request.content_type.startswith("multipart/"):
        body: p.Payload = await request.json() if request.can_read_body else {}
        return body, {}
    body, files = {}, {}
    async for part in await request.multipart():
        if not isinstance(part, BodyPartReader):
            continue
        if part.name == "payload_json":
            body = json.loads(await part.text())
        elif part.filename:
            files[part.filename] = await part.read()
    return body, files


#: Command types (chat input, user, message), installs (server, user) and contexts (server,
#: the bot's DM, other private channels) Discord accepts.
_COMMAND_TYPES = frozenset({1, 2, 3})
_INSTALLS = frozenset({0, 1})
_CONTEXTS = frozenset({0, 1, 2})
MAX_DESCRIPTION = 100


def _command_problem(command: p.Payload) -> str | None:
    """Why Discord would refuse a command of a bulk overwrite, or None."""
    kind = command.get("type", 1)
    if kind not in _COMMAND_TYPES:
        return f"type {kind!r} is not a command type"
    description = command.get("description") or ""
    if kind == 1 and not 1 <= len(description) <= MAX_DESCRIPTION:
        return f"{command.get('name')}: a slash command needs a 1-100 character description"
    if kind != 1 and description:
        return f"{command.get('name')}: context menu commands cannot have a description"
    if not set(command.get("integration_types") or [0]) <= _INSTALLS:
        return f"{command.get('name')}: unknown integration_types"
    if not set(command.get("contexts") or [0]) <= _CONTEXTS:
        return f"{command.get('name')}: unknown contexts"
    return None


def _json(data: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """JSON exactly as Discord labels it: discord.py parses only ``application/json``."""
    return web.Response(
        body=json.dumps(data).encode(),
        status=status,
        headers={**(headers or {}), "Content-Type": "application/json"},
    )


def _error(status: int, code: int, message: str) -> web.Response:
    return _json({"code": code, "message": message}, status=status)
