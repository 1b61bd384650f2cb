"""A Mnemo process for crash tests: the real runtime built from settings (environment), a
platform that is a ``PlatformSink`` (``MNEMO_TEST_SINK``), messages taken over HTTP.

    python -m tests.e2e.crash_bot        # prints {"port": N} once it accepts messages

``POST /inbound {"text", "channel", "user", "event_id", "thread"}`` calls ``Engine.receive``
and answers with the outcome. Timings are short so a killed process's conversations are taken
over fast. ``serve`` takes the platform port to deliver through (``tests.e2e.stream_crash_bot``
passes Slack's).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from aiohttp import web

from bot.settings import load_settings
from bot.wiring import Runtime, build_runtime
from engine.audience import Audience, AudienceKind
from engine.core import Engine
from engine.pipeline import Backoff, PipelineSettings
from engine.ports import PlatformPort
from engine.records import Author, Inbound, utcnow
from tests.e2e.platform_sink import SinkPort

WORKSPACE = "test:W1"
#: The platform port a crash bot delivers through, opened and closed around its life.
type PortFactory = Callable[[Runtime], AbstractAsyncContextManager[PlatformPort]]
CRASH_TEST_TIMINGS = PipelineSettings(
    lease_ttl=1.5,
    poll_interval=0.2,
    turn_retry=Backoff(base=0.2, ceiling=1.0),
    delivery_retry=Backoff(base=0.2, ceiling=1.0),
    delivery_timeout=1.0,
    stop_deadline=2.0,
)


@asynccontextmanager
async def sink_port(runtime: Runtime) -> AsyncIterator[PlatformPort]:
    """The platform: a ``PlatformSink`` at ``MNEMO_TEST_SINK``."""
    port = SinkPort(os.environ["MNEMO_TEST_SINK"])
    try:
        yield port
    finally:
        await port.aclose()


async def serve(port_for: PortFactory = sink_port, workspace: str = WORKSPACE) -> None:
    runtime = await build_runtime(load_settings())
    async with port_for(runtime) as port:
        await _serve(runtime, port, workspace)


async def _serve(runtime: Runtime, port: PlatformPort, workspace: str) -> None:
    engine = Engine(runtime.store, runtime.agents, platforms=[port], settings=CRASH_TEST_TIMINGS)
    agent_id = runtime.default_agent.id

    async def receive(request: web.Request) -> web.Response:
        body = await request.json()
        result = await engine.receive(
            Inbound(
                platform=port.platform,
                agent_id=agent_id,
                audience=Audience(workspace, AudienceKind.PUBLIC, body["channel"]),
                thread=body.get("thread", ""),
                author=Author(body["user"], body["user"]),
                text=body["text"],
                event_id=body["event_id"],
                message_ref=body["event_id"],
                sent_at=utcnow(),
            )
        )
        return web.json_response(
            {"outcome": result.outcome.value, "inbox_id": result.inbox_id, "reason": result.reason}
        )

    app = web.Application()
    app.router.add_post("/inbound", receive)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server = site._server
    assert isinstance(server, asyncio.Server)
    await engine.start()
    print(json.dumps({"port": server.sockets[0].getsockname()[1]}), flush=True)

    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
        await engine.stop()
        await runtime.aclose()


if __name__ == "__main__":
    asyncio.run(serve())
