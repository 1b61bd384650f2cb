"""Slack's requests checked before slack-bolt reads them, so Slack never sees a 404 or a 500
for what it sent and never retries it.

slack-bolt trusts the payload's types: a wrong-typed ``authorizations``, ``event``, ``team`` or
``channel`` raises while it builds its request, a non-string ``type`` or ``action_id`` raises
while it matches listeners, and a payload no listener takes is answered 404. Here such a
payload, once its signature checks out, is recorded as rejected (with the reason, for the
operator) and acknowledged with 200; everything else goes to bolt as it came.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from time import time
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.adapter.socket_mode.async_internals import send_async_response
from slack_bolt.adapter.socket_mode.internals import build_headers
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.request.internals import parse_body
from slack_bolt.response import BoltResponse
from slack_sdk.signature import SignatureVerifier
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest

from engine import JSON

log = logging.getLogger(__name__)

type Rejection = Callable[[JSON, str], Awaitable[None]]
type Path = tuple[str | int, ...]

_ID_OR_OBJECT = (str, dict, type(None))
#: Fields slack-bolt reads its context from (who, where) or matches listeners on, with the
#: types it assumes them to have.
_ROUTING_FIELDS: tuple[tuple[Path, tuple[type, ...]], ...] = (
    *(((field,), _ID_OR_OBJECT) for field in ("enterprise", "team", "user", "channel")),
    (("authorizations",), (list, type(None))),
    (("authorizations", 0), (dict,)),
    (("type",), (str,)),
    (("command",), (str,)),
    (("callback_id",), (str,)),
    (("action_id",), (str,)),
    (("block_id",), (str,)),
    (("event",), (dict,)),
    *((("event", field), _ID_OR_OBJECT) for field in ("enterprise", "team", "user", "channel")),
    (("event", "authorizations"), (list, type(None))),
    (("event", "type"), (str,)),
    (("event", "subtype"), (str,)),
    (("event", "channel_type"), (str,)),
    (("event", "callback_id"), (str,)),
    (("event", "function"), (dict,)),
    # Read by bolt's assistant middleware on every message and assistant_thread_* event.
    (("event", "message"), (dict, type(None))),
    (("event", "previous_message"), (dict, type(None))),
    (("event", "assistant_thread"), (dict, type(None))),
    (("event", "assistant_thread", "channel_id"), (str,)),
    (("event", "assistant_thread", "thread_ts"), (str,)),
    (("event", "function", "callback_id"), (str,)),
    (("actions",), (list,)),
    (("actions", 0), (dict,)),
    (("actions", 0, "action_id"), (str,)),
    (("actions", 0, "block_id"), (str,)),
    (("view",), (dict,)),
    (("view", "callback_id"), (str,)),
    (("view", "type"), (str,)),
)
_VIEW = (("view", "callback_id"), ("view", "type"))
#: Fields a payload of a ``type`` cannot be routed without.
_REQUIRED: Mapping[str, tuple[Path, ...]] = {
    "event_callback": (("event", "type"),),
    "block_actions": (("actions", 0, "action_id"),),
    "interactive_message": (("actions", 0),),
    "view_submission": _VIEW,
    "view_closed": _VIEW,
}
_ASSISTANT_THREAD = (
    ("event", "assistant_thread", "channel_id"),
    ("event", "assistant_thread", "thread_ts"),
)
#: Fields an event of a ``type`` cannot be routed without (bolt's assistant needs the thread).
_EVENT_REQUIRED: Mapping[str, tuple[Path, ...]] = {
    "assistant_thread_started": _ASSISTANT_THREAD,
    "assistant_thread_context_changed": _ASSISTANT_THREAD,
}
#: Slack's deepest payloads (rich text in a message in an edit) stay far below this; bolt
#: copies payloads recursively, so a deeper one would exhaust the stack.
MAX_NESTING = 64
_MISSING = object()
#: What building bolt's request raises on a payload it cannot read.
_UNREADABLE = (ValueError, TypeError, AttributeError, KeyError, IndexError, RecursionError)


def screen(body: Mapping[str, Any]) -> str | None:
    """Why slack-bolt could not route ``body``, or None when it can."""
    if _nested_deeper(body, MAX_NESTING):
        return f"the payload is nested more than {MAX_NESTING} levels deep"
    for path, expected in _ROUTING_FIELDS:
        found = _at(body, path)
        if found is not _MISSING and not isinstance(found, expected):
            return f"{_dotted(path)} is a {type(found).__name__}, not a {expected[0].__name__}"
    kind = body.get("type")
    for path in _REQUIRED.get(kind, ()) if isinstance(kind, str) else ():
        if _at(body, path) is _MISSING:
            return f"a {kind} payload without {_dotted(path)}"
    event_kind = _at(body, ("event", "type"))
    for path in _EVENT_REQUIRED.get(event_kind, ()) if isinstance(event_kind, str) else ():
        if _at(body, path) is _MISSING:
            return f"an {event_kind} event without {_dotted(path)}"
    return None


class SlackEdge:
    """The door every Slack request passes, over HTTP or Socket Mode, before bolt."""

    def __init__(self, bolt: AsyncApp, reject: Rejection, signing_secret: str = "") -> None:
        self._bolt = bolt
        self._reject = reject
        self._verifier = SignatureVerifier(signing_secret) if signing_secret else None

    async def handle_http(self, request: web.Request) -> web.Response:
        raw = await request.read()
        problem: str | None
        try:
            text = raw.decode("utf-8")
            body = parse_body(text, request.content_type)
        except (UnicodeDecodeError, *_UNREADABLE) as error:
            body, problem = {"body": raw.decode("utf-8", "replace")}, _unreadable(error)
        else:
            problem = screen(body) if isinstance(body, dict) else "the body is not an object"
        if problem is None:
            bolt_request = _bolt_request(
                lambda: AsyncBoltRequest(
                    body=text, query=request.query_string, headers=dict(request.headers)
                )
            )
            if isinstance(bolt_request, AsyncBoltRequest):
                return await to_aiohttp_response(await self.dispatch(bolt_request))
            problem = bolt_request
        if not self._signed(raw, request.headers):
            return web.json_response({"error": "invalid request"}, status=401)
        await self.refuse(body if isinstance(body, dict) else {"body": body}, problem)
        return web.Response(status=200)

    async def dispatch(self, request: AsyncBoltRequest) -> BoltResponse:
        """Bolt's answer to a screened ``request``; 200 where it finds no listener."""
        response = await self._bolt.async_dispatch(request)
        if response.status == 404:
            kind = request.body.get("type") or request.body.get("command") or ""
            await self.refuse(request.body, f"no listener takes a payload of type {kind!a}")
            return BoltResponse(status=200, body="")
        return response

    async def refuse(self, body: JSON, reason: str) -> None:
        """Record ``body`` as rejected for ``reason`` (Slack still gets its 200)."""
        log.info("slack payload refused: %s", reason)
        await self._reject(body, reason)

    def _signed(self, body: str | bytes, headers: Mapping[str, Any]) -> bool:
        if self._verifier is None:
            return True
        return self._verifier.is_valid(
            body=body,
            timestamp=_header(headers, "X-Slack-Request-Timestamp"),
            signature=_header(headers, "X-Slack-Signature"),
        )


class ScreenedSocketModeHandler(AsyncSocketModeHandler):
    """Socket Mode through the ``SlackEdge``: every envelope is acknowledged unless the
    engine could not take it (bolt's 500), which Slack then redelivers."""

    def __init__(self, edge: SlackEdge, app: AsyncApp, client: SocketModeClient) -> None:
        # The client comes built: its connection is owned by ``adapters.slack.socket``.
        self.app = app
        self.app_token = client.app_token
        self.client = client
        client.socket_mode_request_listeners.append(self.handle)  # type: ignore[arg-type]
        self._edge = edge

    async def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        started = time()
        body: object = req.payload
        if not isinstance(body, dict):
            await self._edge.refuse({"payload": body}, "the payload is not an object")
            await send_async_response(client, req, BoltResponse(status=200, body=""), started)
            return
        problem = screen(body)
        if problem is None:
            bolt_request = _bolt_request(
                lambda: AsyncBoltRequest(body=body, mode="socket_mode", headers=build_headers(req))
            )
            if isinstance(bolt_request, AsyncBoltRequest):
                response = await self._edge.dispatch(bolt_request)
                await send_async_response(client, req, response, started)
                return
            problem = bolt_request
        await self._edge.refuse(body, problem)
        await send_async_response(client, req, BoltResponse(status=200, body=""), started)


def _bolt_request(build: Callable[[], AsyncBoltRequest]) -> AsyncBoltRequest | str:
    """Bolt's request, or why bolt cannot read the payload."""
    try:
        return build()
    except _UNREADABLE as error:
        return _unreadable(error)


def _at(body: object, path: Path) -> object:
    found: object = body
    for step in path:
        if isinstance(step, int):
            if not isinstance(found, list) or len(found) <= step:
                return _MISSING
            found = found[step]
        elif isinstance(found, Mapping) and step in found:
            found = found[step]
        else:
            return _MISSING
    return found


def _nested_deeper(body: object, limit: int) -> bool:
    """Whether ``body`` nests objects or lists more than ``limit`` deep (without recursing)."""
    level: list[object] = [body]
    for _ in range(limit):
        level = [
            child
            for value in level
            for child in (
                value.values()
                if isinstance(value, dict)
                else value
                if isinstance(value, list)
                else ()
            )
            if isinstance(child, dict | list)
        ]
        if not level:
            return False
    return True


def _dotted(path: Path) -> str:
    return ".".join(str(step) for step in path)


def _header(headers: Mapping[str, Any], name: str) -> str:
    value = headers.get(name) or headers.get(name.lower()) or ""
    return str(value[0] if isinstance(value, list | tuple) and value else value)


def _unreadable(error: BaseException) -> str:
    return f"the payload cannot be read ({type(error).__name__})"
