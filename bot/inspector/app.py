"""The inspector as a sub-application of the bot's HTTP server: the page and its JSON API."""

from __future__ import annotations

import logging
from pathlib import Path

from aiohttp import web

from bot.inspector import (
    chat,
    context_routes,
    feedback_routes,
    history_routes,
    jobs_routes,
    lineage_routes,
    memory_routes,
    rejections_routes,
    sources_routes,
)
from bot.inspector.api import SERVICES_KEY, Endpoint, reply
from bot.inspector.auth import bearer_auth, inspector_token
from bot.inspector.chat import CHAT_AGENTS_KEY, INSPECTOR_PORT_KEY, ChatAgents, InspectorPort
from bot.inspector.openapi import API_PREFIX, openapi_document
from bot.inspector.services import InspectorServices
from bot.settings import Settings

log = logging.getLogger(__name__)

PREFIX = "/inspector"
#: The page's path with its generated token; printed once the server listens.
_LINK_KEY = web.AppKey("inspector_link", str)
STATIC = Path(__file__).parent / "static"
ENDPOINTS: tuple[Endpoint, ...] = (
    memory_routes.ENDPOINTS
    + lineage_routes.ENDPOINTS
    + context_routes.ENDPOINTS
    + chat.ENDPOINTS
    + jobs_routes.ENDPOINTS
    + history_routes.ENDPOINTS
    + rejections_routes.ENDPOINTS
    + sources_routes.ENDPOINTS
    + feedback_routes.ENDPOINTS
)


async def _page(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})


async def _to_page(request: web.Request) -> web.Response:
    raise web.HTTPPermanentRedirect(f"{PREFIX}/")


def build_inspector(services: InspectorServices, token: str) -> web.Application:
    """The inspector's routes, behind ``token``; registers the ``inspector`` platform."""
    port = InspectorPort()
    services.intake.register_platform(port)
    inspector = web.Application(middlewares=[bearer_auth(token)])
    inspector[SERVICES_KEY] = services
    inspector[INSPECTOR_PORT_KEY] = port
    inspector[CHAT_AGENTS_KEY] = ChatAgents()
    document = openapi_document(ENDPOINTS)

    async def openapi(request: web.Request) -> web.Response:
        return reply(document)

    api = API_PREFIX.removeprefix(PREFIX)
    inspector.router.add_get(f"{api}/openapi.json", openapi)
    for endpoint in ENDPOINTS:
        inspector.router.add_route(endpoint.method, api + endpoint.path, endpoint.handler)
    inspector.router.add_get("/", _page)
    inspector.router.add_static("/static/", STATIC)
    return inspector


def mount_inspector(
    app: web.Application, services: InspectorServices, settings: Settings
) -> str | None:
    """Serve the inspector under /inspector/ of ``app``; returns its token, or None when it is
    not served (no MNEMO_INSPECTOR_TOKEN while listening beyond this machine)."""
    resolved = inspector_token(settings)
    if resolved is None:
        log.warning(
            "inspector off: MNEMO_HTTP_HOST=%s is reachable from other machines; set "
            "MNEMO_INSPECTOR_TOKEN to serve it there",
            settings.http_host,
        )
        return None
    token, generated = resolved
    app.router.add_get(PREFIX, _to_page)  # before the sub-application, which would claim it
    app.add_subapp(PREFIX, build_inspector(services, token))
    if generated:
        # The fragment keeps the token out of request lines.
        app[_LINK_KEY] = f"{PREFIX}/#token={token}"
    return token


def inspector_link(app: web.Application, host: str, port: int) -> str | None:
    """The page's address with its generated token, to print once the server listens on
    ``host:port``; None when the token is configured (the operator knows it) or it is off."""
    path = app.get(_LINK_KEY)
    return None if path is None else f"http://{host}:{port}{path}"
