"""The bot's HTTP server: health and readiness (and the routes platforms and tools mount)."""

from __future__ import annotations

from aiohttp import web

from bot.wiring import Runtime

RUNTIME_KEY = web.AppKey("runtime", Runtime)


async def healthz(request: web.Request) -> web.Response:
    """Alive: the process serves requests."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Ready: the store answers and a model endpoint is configured."""
    runtime = request.app[RUNTIME_KEY]
    problems: list[str] = []
    try:
        await runtime.store.ping()
    except Exception as exc:
        problems.append(f"store unreachable: {type(exc).__name__}")
    if not runtime.settings.llm_configured:
        problems.append("no model endpoint configured")
    if problems:
        return web.json_response({"status": "unready", "problems": problems}, status=503)
    return web.json_response({"status": "ready"})


def build_app(runtime: Runtime) -> web.Application:
    app = web.Application(client_max_size=2 * 1024 * 1024)
    app[RUNTIME_KEY] = runtime
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    return app
