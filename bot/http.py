"""The bot's HTTP server: health, readiness, metrics (and the routes platforms and tools mount)."""

from __future__ import annotations

import asyncio

from aiohttp import web

from bot.inspector import mount_inspector
from bot.metrics import CONTENT_TYPE
from bot.wiring import Runtime

RUNTIME_KEY = web.AppKey("runtime", Runtime)
#: Set when the process starts shutting down: readiness fails so load balancers move away.
STOPPING_KEY = web.AppKey("stopping", asyncio.Event)
#: Seconds readiness waits for the store; probes usually give up after a few seconds.
READY_PING_TIMEOUT = 2.0


async def healthz(request: web.Request) -> web.Response:
    """Alive: the process serves requests."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Ready: the store answers and a model endpoint is configured."""
    runtime = request.app[RUNTIME_KEY]
    if request.app[STOPPING_KEY].is_set():
        return web.json_response({"status": "stopping"}, status=503)
    problems: list[str] = []
    try:
        async with asyncio.timeout(READY_PING_TIMEOUT):
            await runtime.store.ping()
    except Exception as exc:
        problems.append(f"store unreachable: {type(exc).__name__}")
    if not runtime.settings.llm_configured:
        problems.append("no model endpoint configured")
    if problems:
        return web.json_response({"status": "unready", "problems": problems}, status=503)
    return web.json_response({"status": "ready"})


async def metrics(request: web.Request) -> web.Response:
    """Prometheus metrics: turns, stage latencies, LLM tokens and errors, queue depth, jobs."""
    runtime = request.app[RUNTIME_KEY]
    body = await runtime.metrics.exposition(runtime.engine, runtime.store.inbox)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})


def build_app(runtime: Runtime) -> web.Application:
    app = web.Application(client_max_size=2 * 1024 * 1024)
    app[RUNTIME_KEY] = runtime
    app[STOPPING_KEY] = asyncio.Event()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    mount_inspector(app, runtime.inspector_services(), runtime.settings)
    return app
