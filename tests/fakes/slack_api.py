"""A fake Slack Web API: a real aiohttp server on an ephemeral port speaking Slack's JSON.

It records every call, keeps posted messages (with metadata) so history reads see them, and
can be told to answer a method with an error (a 429 with ``Retry-After``, a 5xx, or an
``ok: false``) for the next N calls. Also serves ``response_url`` posts, file uploads, and
the private download URLs of files people shared (only to the bot token that may read them;
anyone else gets Slack's sign-in page, as Slack answers).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

type JSONDict = dict[str, Any]


@dataclass(frozen=True, slots=True)
class ApiCall:
    method: str
    args: JSONDict
    token: str
    #: When the call arrived (``time.perf_counter``).
    at: float = field(default_factory=time.perf_counter)


@dataclass(slots=True)
class _Fault:
    status: int
    error: str
    retry_after: float | None
    times: int


@dataclass(slots=True)
class FakeSlackApi:
    team_id: str = "T0001"
    bot_user_id: str = "UBOT"
    bot_id: str = "BBOT"
    #: users.info answers, by user id.
    users: dict[str, JSONDict] = field(default_factory=dict)
    #: conversations.info answers, by channel id.
    channels: dict[str, JSONDict] = field(default_factory=dict)
    #: conversations.members answers, by channel id (other channels: ``channel_not_found``).
    members: dict[str, list[str]] = field(default_factory=dict)
    #: More bots of the same workspace by bot token: (user id, bot id). Calls made with one of
    #: these tokens answer auth.test and post as that bot (several agents, each its own app).
    bots: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: What apps.connections.open hands out (the fake Socket Mode server's URL).
    socket_url: str = ""
    #: Whether assistant.threads.setStatus (setSuggestedPrompts, setTitle) succeeds (AI
    #: assistant feature enabled).
    assistant_threads: bool = True
    #: What chat.startStream answers in a workspace without streaming (e.g. "unknown_method");
    #: None: streaming works.
    stream_refusal: str | None = None
    calls: list[ApiCall] = field(default_factory=list)
    messages: list[JSONDict] = field(default_factory=list)
    responses: list[JSONDict] = field(default_factory=list)
    uploads: dict[str, bytes] = field(default_factory=dict)
    #: Channels' past messages by channel id (threads' replies included, any order): what
    #: conversations.history and conversations.replies page through for those channels.
    archive: dict[str, list[JSONDict]] = field(default_factory=dict)
    #: Files people shared, by file id: (name, bytes, the token that may download them).
    hosted: dict[str, tuple[str, bytes, str]] = field(default_factory=dict)
    #: Downloads of hosted files: (file id, token sent).
    downloads: list[tuple[str, str]] = field(default_factory=list)
    #: When set, each download is answered only once it is (a file still on its way).
    downloads_released: asyncio.Event | None = None
    _faults: dict[str, _Fault] = field(default_factory=dict)
    _hangs: dict[str, tuple[float, int]] = field(default_factory=dict)
    _drops: dict[str, int] = field(default_factory=dict)
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _runner: web.AppRunner | None = None
    _port: int = 0
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def base_url(self) -> str:
        """What to pass as ``AsyncWebClient(base_url=...)``."""
        return f"http://127.0.0.1:{self._port}/api/"

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)
        app.router.add_post("/response/{key}", self._response_url)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/files-pri/{team_file}/download/{name}", self._download)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def fail(
        self,
        method: str,
        *,
        status: int = 200,
        error: str = "internal_error",
        retry_after: float | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with an error."""
        self._faults[method] = _Fault(status, error, retry_after, times)

    def hang(self, method: str, seconds: float, times: int = 1) -> None:
        """Do what the next ``times`` calls of ``method`` ask (a post is made), but answer
        only after ``seconds``: a client with a shorter timeout never learns it succeeded."""
        self._hangs[method] = (seconds, times)

    def drop(self, method: str, times: int = 1) -> None:
        """Close the connection of the next ``times`` calls of ``method`` without answering."""
        self._drops[method] = times

    def rate_limit(self, method: str, retry_after: float = 1, times: int = 1) -> None:
        self.fail(method, status=429, error="ratelimited", retry_after=retry_after, times=times)

    def host_file(
        self, name: str, data: bytes, *, token: str, mimetype: str = "application/octet-stream"
    ) -> JSONDict:
        """Keep a file someone shared; its description as message events carry it in
        ``files``, with a private URL that ``token`` may download."""
        file_id = f"F{len(self.hosted) + 1:04d}"
        self.hosted[file_id] = (name, data, token)
        return self._file(file_id) | {"mimetype": mimetype}

    def _file(self, file_id: str) -> JSONDict:
        name, data, _ = self.hosted[file_id]
        url = f"{self.root_url}/files-pri/{self.team_id}-{file_id}/download/{name}"
        return {
            "id": file_id,
            "name": name,
            "title": name,
            "size": len(data),
            "mode": "hosted",
            "url_private": url,
            "url_private_download": url,
            "permalink": f"https://fake.slack.com/files/UANN/{file_id}/{name}",
        }

    def _file_info(self, args: JSONDict) -> JSONDict:
        file_id = str(args.get("file", ""))
        if file_id not in self.hosted:
            return {"ok": False, "error": "file_not_found"}
        return {"ok": True, "file": self._file(file_id)}

    def calls_of(self, method: str) -> list[ApiCall]:
        return [c for c in self.calls if c.method == method]

    def posted(self, channel: str | None = None) -> list[JSONDict]:
        return [m for m in self.messages if channel is None or m["channel"] == channel]

    def response_url(self, key: str) -> str:
        return f"{self.root_url}/response/{key}"

    async def wait_until(self, condition: Callable[[], bool], within: float = 10.0) -> None:
        """Wait until ``condition()`` holds, re-checking after every recorded call."""
        async with asyncio.timeout(within):
            while not condition():
                self._changed.clear()
                try:
                    async with asyncio.timeout(0.2):
                        await self._changed.wait()
                except TimeoutError:
                    pass

    # -- handlers -------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await _arguments(request)
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        token = token or str(args.get("token", ""))
        self.calls.append(ApiCall(method, args, token))
        self._changed.set()
        if self._drops.get(method, 0) > 0 and request.transport is not None:
            self._drops[method] -= 1
            request.transport.close()
            return web.Response()  # the client never reads it: its connection is gone
        fault = self._faults.get(method)
        if fault is not None and fault.times > 0:
            fault.times -= 1
            headers = {}
            if fault.retry_after is not None:
                headers["Retry-After"] = str(int(fault.retry_after))
            return web.json_response(
                {"ok": False, "error": fault.error}, status=fault.status, headers=headers
            )
        handler = getattr(self, _HANDLERS[method], None) if method in _HANDLERS else None
        body: JSONDict = handler(args) if handler is not None else {"ok": True}
        if token in self.bots:
            _speak_as(body, *self.bots[token])
        seconds, times = self._hangs.get(method, (0.0, 0))
        if times > 0:
            self._hangs[method] = (seconds, times - 1)
            await asyncio.sleep(seconds)
        return web.json_response(body)

    async def _response_url(self, request: web.Request) -> web.Response:
        self.responses.append({"key": request.match_info["key"], **await request.json()})
        self._changed.set()
        return web.Response(text="ok")

    async def _upload(self, request: web.Request) -> web.Response:
        content = await request.read()
        if request.content_type.startswith("multipart/"):
            field = next(iter((await request.post()).values()), b"")
            content = field.file.read() if isinstance(field, web.FileField) else str(field).encode()
        self.uploads[request.match_info["file_id"]] = content
        self._changed.set()
        return web.Response(text="OK")

    async def _download(self, request: web.Request) -> web.Response:
        file_id = request.match_info["team_file"].rpartition("-")[2]
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        self.downloads.append((file_id, token))
        self._changed.set()
        if self.downloads_released is not None:
            async with asyncio.timeout(30):
                await self.downloads_released.wait()
        if file_id not in self.hosted:
            return web.Response(status=404, text="file not found")
        _, data, allowed = self.hosted[file_id]
        if token != allowed:
            return web.Response(text="<html>Sign in to Slack</html>", content_type="text/html")
        return web.Response(body=data, content_type="application/octet-stream")

    # -- methods --------------------------------------------------------------------------

    def _auth_test(self, args: JSONDict) -> JSONDict:
        return {
            "ok": True,
            "url": "https://fake.slack.com/",
            "team": "Fake Team",
            "user": "mnemo",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _connections_open(self, args: JSONDict) -> JSONDict:
        return {"ok": True, "url": self.socket_url}

    def _post_message(self, args: JSONDict) -> JSONDict:
        ts = f"{1_700_000_000 + next(self._ts)}.000100"
        metadata = args.get("metadata")
        if isinstance(metadata, str):
            metadata = json.loads(metadata)
        message: JSONDict = {
            "type": "message",
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "channel": args.get("channel", ""),
            "text": args.get("text", ""),
            "ts": ts,
        }
        if args.get("thread_ts"):
            message["thread_ts"] = args["thread_ts"]
        if metadata:
            message["metadata"] = metadata
        _set_blocks(message, args)
        self.messages.append(message)
        return {"ok": True, "channel": message["channel"], "ts": ts, "message": message}

    def _message_at(self, args: JSONDict) -> JSONDict | None:
        channel, ts = args.get("channel"), args.get("ts")
        return next((m for m in self.messages if m["channel"] == channel and m["ts"] == ts), None)

    def _start_stream(self, args: JSONDict) -> JSONDict:
        """A message in a thread that grows as text is appended (``streaming`` until stopped)."""
        if self.stream_refusal is not None:
            return {"ok": False, "error": self.stream_refusal}
        if not args.get("thread_ts"):
            return {"ok": False, "error": "invalid_arguments"}
        posted = self._post_message(
            {"channel": args.get("channel"), "thread_ts": args["thread_ts"]}
        )
        message = self._message_at({"channel": posted["channel"], "ts": posted["ts"]})
        assert message is not None
        message["text"] = _streamed_text(args)
        message["streaming"] = True
        return {"ok": True, "channel": posted["channel"], "ts": posted["ts"]}

    def _append_stream(self, args: JSONDict) -> JSONDict:
        message = self._message_at(args)
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        if not message.get("streaming"):
            return {"ok": False, "error": "message_not_in_streaming_state"}
        message["text"] += _streamed_text(args)
        return {"ok": True, "channel": message["channel"], "ts": message["ts"]}

    def _stop_stream(self, args: JSONDict) -> JSONDict:
        answer = self._append_stream(args)
        if answer["ok"]:
            message = self._message_at(args)
            assert message is not None
            message["streaming"] = False
            _set_metadata(message, args)
            _set_blocks(message, args)
        return answer

    def _update(self, args: JSONDict) -> JSONDict:
        message = self._message_at(args)
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        message["text"] = args.get("text", message["text"])
        _set_metadata(message, args)
        _set_blocks(message, args)
        return {"ok": True, "channel": message["channel"], "ts": message["ts"]}

    def _delete(self, args: JSONDict) -> JSONDict:
        message = self._message_at(args)
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        self.messages.remove(message)
        return {"ok": True, "channel": message["channel"], "ts": message["ts"]}

    def _post_ephemeral(self, args: JSONDict) -> JSONDict:
        return {"ok": True, "message_ts": f"{1_700_000_000 + next(self._ts)}.000200"}

    def _history(self, args: JSONDict) -> JSONDict:
        channel = args.get("channel")
        if channel in self.archive:
            top = [m for m in self._archived(channel) if m.get("thread_ts", m["ts"]) == m["ts"]]
            return _paged(_within(top, args), args, newest_first=True)
        found = [m for m in self.messages if m["channel"] == channel and "thread_ts" not in m]
        return {"ok": True, "messages": list(reversed(found)), "has_more": False}

    def _replies(self, args: JSONDict) -> JSONDict:
        channel, ts = args.get("channel"), args.get("ts")
        if channel in self.archive:
            thread = [m for m in self._archived(channel) if m.get("thread_ts", m["ts"]) == ts]
            return _paged(thread, args, newest_first=False)
        found = [m for m in self.messages if m["channel"] == channel and m.get("thread_ts") == ts]
        return {"ok": True, "messages": found, "has_more": False}

    def _archived(self, channel: str) -> list[JSONDict]:
        """A channel's past messages as Slack returns them: each names its author's
        workspace (``team``; another organisation's, with ``user_team``, in Slack Connect)."""
        return [{"team": self.team_id, **m} for m in self.archive[channel]]

    def _conversation_info(self, args: JSONDict) -> JSONDict:
        channel = self.channels.get(str(args.get("channel")))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        return {"ok": True, "channel": {"id": args.get("channel"), **channel}}

    def _members(self, args: JSONDict) -> JSONDict:
        members = self.members.get(str(args.get("channel")))
        if members is None:
            return {"ok": False, "error": "channel_not_found"}
        return _paged_list(members, args, "members")

    def _permalink(self, args: JSONDict) -> JSONDict:
        channel, ts = str(args.get("channel", "")), str(args.get("message_ts", ""))
        if not channel or not ts:
            return {"ok": False, "error": "invalid_arguments"}
        link = f"https://fake.slack.com/archives/{channel}/p{ts.replace('.', '')}"
        return {"ok": True, "channel": channel, "permalink": link}

    def _open_dm(self, args: JSONDict) -> JSONDict:
        return {"ok": True, "channel": {"id": f"D{args.get('users', '')}"}}

    def _user_info(self, args: JSONDict) -> JSONDict:
        user = self.users.get(str(args.get("user")))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": {"id": args.get("user"), **user}}

    def _set_status(self, args: JSONDict) -> JSONDict:
        if not self.assistant_threads:
            return {"ok": False, "error": "not_allowed"}
        return {"ok": True}

    def _upload_url(self, args: JSONDict) -> JSONDict:
        file_id = f"F{next(self._ts)}"
        return {"ok": True, "upload_url": f"{self.root_url}/upload/{file_id}", "file_id": file_id}

    def _complete_upload(self, args: JSONDict) -> JSONDict:
        files = args.get("files") or []
        if isinstance(files, str):
            files = json.loads(files)
        return {"ok": True, "files": [{"id": f["id"], "title": f.get("title", "")} for f in files]}

    def _oauth_access(self, args: JSONDict) -> JSONDict:
        return {
            "ok": True,
            "app_id": "A0001",
            "authed_user": {"id": "UINSTALLER"},
            "scope": "chat:write,commands",
            "token_type": "bot",
            "access_token": f"xoxb-installed-{self.team_id}",
            "bot_user_id": self.bot_user_id,
            "team": {"id": self.team_id, "name": "Fake Team"},
            "enterprise": None,
            "is_enterprise_install": False,
        }

    def _bot_info(self, args: JSONDict) -> JSONDict:
        return {"ok": True, "bot": {"id": self.bot_id, "user_id": self.bot_user_id}}


def _within(messages: list[JSONDict], args: JSONDict) -> list[JSONDict]:
    """The messages between ``oldest`` and ``latest`` (both exclusive, as Slack's default)."""
    oldest, latest = float(args.get("oldest") or 0), float(args.get("latest") or "inf")
    return [m for m in messages if oldest < float(m["ts"]) < latest]


def _paged(messages: list[JSONDict], args: JSONDict, *, newest_first: bool) -> JSONDict:
    """One page of ``messages`` in Slack's order, with the cursor of the next page."""
    ordered = sorted(messages, key=lambda m: float(m["ts"]), reverse=newest_first)
    body = _paged_list(ordered, args, "messages")
    body["has_more"] = bool(body["response_metadata"]["next_cursor"])
    return body


def _paged_list(items: list[Any], args: JSONDict, key: str) -> JSONDict:
    """One page of ``items`` under ``key``, with the cursor of the next page."""
    start = int(str(args.get("cursor") or "page:0").removeprefix("page:"))
    limit = int(args.get("limit") or 100)
    more = start + limit < len(items)
    return {
        "ok": True,
        key: items[start : start + limit],
        "response_metadata": {"next_cursor": f"page:{start + limit}" if more else ""},
    }


def _set_blocks(message: JSONDict, args: JSONDict) -> None:
    """Keep the Block Kit layout a post, stop or update gave the message."""
    blocks = args.get("blocks")
    if blocks:
        message["blocks"] = json.loads(blocks) if isinstance(blocks, str) else blocks


def _set_metadata(message: JSONDict, args: JSONDict) -> None:
    metadata = args.get("metadata")
    if metadata:
        message["metadata"] = json.loads(metadata) if isinstance(metadata, str) else metadata


def _streamed_text(args: JSONDict) -> str:
    """The text a stream method carries: ``markdown_text`` and the markdown ``chunks``."""
    chunks = args.get("chunks") or []
    if isinstance(chunks, str):
        chunks = json.loads(chunks)
    text = str(args.get("markdown_text") or "")
    return text + "".join(
        str(c.get("text", "")) for c in chunks if c.get("type") == "markdown_text"
    )


def _speak_as(body: JSONDict, user_id: str, bot_id: str) -> None:
    """Make an answer (auth.test, a posted message) that of another bot of the workspace."""
    if "user_id" in body:
        body |= {"user_id": user_id, "bot_id": bot_id}
    if isinstance(body.get("message"), dict):
        body["message"] |= {"user": user_id, "bot_id": bot_id}


def signed_headers(signing_secret: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    """Headers Slack adds to a request: the v0 HMAC-SHA256 signature of the body."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(
        signing_secret.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256
    ).hexdigest()
    return {
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": f"v0={digest}",
    }


def signed_form(signing_secret: str, form: dict[str, str]) -> tuple[str, dict[str, str]]:
    """A form body (slash command, interactivity) and the signed headers Slack sends with it."""
    raw = urlencode(form)
    content_type = {"Content-Type": "application/x-www-form-urlencoded"}
    return raw, content_type | signed_headers(signing_secret, raw)


#: Web API method -> the fake's handler; other methods answer ``{"ok": true}``.
_HANDLERS = {
    "chat.postMessage": "_post_message",
    "chat.postEphemeral": "_post_ephemeral",
    "chat.startStream": "_start_stream",
    "chat.appendStream": "_append_stream",
    "chat.stopStream": "_stop_stream",
    "chat.update": "_update",
    "chat.delete": "_delete",
    "assistant.threads.setStatus": "_set_status",
    "assistant.threads.setSuggestedPrompts": "_set_status",
    "assistant.threads.setTitle": "_set_status",
    "files.getUploadURLExternal": "_upload_url",
    "files.completeUploadExternal": "_complete_upload",
    "files.info": "_file_info",
    "auth.test": "_auth_test",
    "apps.connections.open": "_connections_open",
    "conversations.history": "_history",
    "conversations.replies": "_replies",
    "conversations.info": "_conversation_info",
    "conversations.members": "_members",
    "conversations.open": "_open_dm",
    "chat.getPermalink": "_permalink",
    "users.info": "_user_info",
    "oauth.v2.access": "_oauth_access",
    "bots.info": "_bot_info",
}


async def _arguments(request: web.Request) -> JSONDict:
    args: JSONDict = dict(request.query)
    if request.content_type == "application/json":
        body = await request.json()
        if isinstance(body, dict):
            args.update(body)
    elif request.can_read_body:
        form = await request.post()
        args.update({k: v for k, v in form.items() if isinstance(v, str)})
    return args
