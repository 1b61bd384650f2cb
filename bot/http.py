"""The bot's HTTP server: health, readiness, metrics (and the routes platforms and tools mount)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from bot.inspector import InspectorServices, mount_inspector
from bot.metrics import CONTENT_TYPE
from bot.platforms import Platforms
from bot.settings import Settings


@dataclass(frozen=True, slots=True)
class HttpServices:
    """What the HTTP server answers from, built by ``bot.wiring``."""

    #: Raises when the store does not answer.
    ping_store: Callable[[], Awaitable[None]]
    llm_configured: bool
    #: Why the model counts as unreachable now (steps in a row failed and the endpoint still
    #: does not answer), or None; it clears by itself once the endpoint answers again.
    model_problem: Callable[[], Awaitable[str | None]]
    #: The Prometheus text of this process, with the queue gauges read now.
    metrics_text: Callable[[], Awaitable[bytes]]
    inspector: InspectorServices


SERVICES_KEY = web.AppKey("services", HttpServices)
#: The bots, once built: one whose gateway connection is down makes the process unready.
PLATFORMS_KEY = web.AppKey("platforms", Platforms)
#: Set when the process starts shutting down: readiness fails so load balancers move away.
STOPPING_KEY = web.AppKey("stopping", asyncio.Event)
#: Seconds readiness waits for the store; probes usually give up after a few seconds.
READY_PING_TIMEOUT = 2.0


async def healthz(request: web.Request) -> web.Response:
    """Alive: the process serves requests."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Ready: the store answers, and a model endpoint is configured and not known to be down."""
    services = request.app[SERVICES_KEY]
    if request.app[STOPPING_KEY].is_set():
        return web.json_response({"status": "stopping"}, status=503)
    problems: list[str] = []
    try:
        async with asyncio.timeout(READY_PING_TIMEOUT):
            await services.ping_store()
    except Exception as exc:
        problems.append(f"store unreachable: {type(exc).__name__}")
    if not services.llm_configured:
        problems.append("no model endpoint configured")
    else:
        try:
            async with asyncio.timeout(READY_PING_TIMEOUT):
                model_problem = await services.model_problem()
        except TimeoutError:
            model_problem = "model unreachable: the endpoint did not answer in time"
        if model_problem is not None:
            problems.append(model_problem)
    if (platforms := request.app.get(PLATFORMS_KEY)) is not None:
        problems.extend(platforms.problems)
    if problems:
        return web.json_response({"status": "unready", "problems": problems}, status=503)
    return web.json_response({"status": "ready"})


async def metrics(request: web.Request) -> web.Response:
    """Prometheus metrics: turns, stage latencies, LLM tokens and errors, queue depth, jobs."""
    body = await request.app[SERVICES_KEY].metrics_text()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})


def build_app(services: HttpServices, settings: Settings) -> web.Application:
    app = web.Application(client_max_size=2 * 1024 * 1024)
    app[SERVICES_KEY] = services
    app[STOPPING_KEY] = asyncio.Event()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    mount_inspector(app, services.inspector, settings)
    return app
