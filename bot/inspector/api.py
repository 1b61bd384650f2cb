"""The JSON API's shared parts: endpoint declarations (routes and OpenAPI come from the same
list), request parsing into pydantic models, and errors as JSON."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, NoReturn

from aiohttp import web
from pydantic import BaseModel, ValidationError

from bot.inspector.services import InspectorServices
from engine import JSON, Agent

#: The inspector's ports, as its sub-application holds them.
SERVICES_KEY = web.AppKey("inspector_services", InspectorServices)

type Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One API operation: its route, and what the OpenAPI document says about it."""

    method: str
    #: Relative to /inspector/api, with {name} path parameters.
    path: str
    handler: Handler
    summary: str
    tag: str
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None


_ERRORS: dict[int, type[web.HTTPException]] = {
    400: web.HTTPBadRequest,
    401: web.HTTPUnauthorized,
    404: web.HTTPNotFound,
    409: web.HTTPConflict,
    422: web.HTTPUnprocessableEntity,
}


def fail(status: int, message: str, **extra: Any) -> NoReturn:
    """Stop the request with ``{"error": message}`` and ``status`` (one of ``_ERRORS``)."""
    body = json.dumps({"error": message, **extra})
    raise _ERRORS[status](text=body, content_type="application/json") from None


def _problems(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'request'}: {e['msg']}" for e in exc.errors()
    )


def query_of[M: BaseModel](request: web.Request, model: type[M]) -> M:
    """The query string as ``model``; a bad or missing parameter is a 400 naming it."""
    try:
        return model.model_validate(dict(request.query))
    except ValidationError as exc:
        fail(400, _problems(exc))


async def body_of[M: BaseModel](request: web.Request, model: type[M]) -> M:
    """The JSON body as ``model``; a bad body is a 400 naming the field."""
    try:
        return model.model_validate_json(await request.read())
    except ValidationError as exc:
        fail(400, _problems(exc))


def services_of(request: web.Request) -> InspectorServices:
    return request.app[SERVICES_KEY]


async def agent_of(request: web.Request) -> Agent:
    """The agent named by the ``{agent_id}`` path parameter (its id or its name)."""
    store = services_of(request).stores.agents
    key = request.match_info["agent_id"]
    agent = await store.get(key) or await store.by_name(key)
    if agent is None:
        fail(404, f"there is no agent {key!r}")
    return agent


def reply(data: JSON | list[JSON], status: int = 200) -> web.Response:
    return web.json_response(data, status=status)
