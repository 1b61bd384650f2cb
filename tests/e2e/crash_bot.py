"""A Mnemo process for crash tests: the real runtime built from settings (environment), a
platform that is a ``PlatformSink`` (``MNEMO_TEST_SINK``), messages taken over HTTP.

    python -m tests.e2e.crash_bot        # prints {"port": N} once it accepts messages

``POST /inbound {"text", "channel", "user", "event_id"}`` calls ``Engine.receive`` and answers
with the outcome. Timings are short so a killed process's conversations are taken over fast.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal

from aiohttp import web

from bot.settings import load_settings
from bot.wiring import build_runtime
from engine.audience import Audience, AudienceKind
from engine.core import Engine
from engine.pipeline import Backoff, PipelineSettings
from engine.records import Author, Inbound, utcnow
from tests.e2e.platform_sink import SinkPort

WORKSPACE = "test:W1"
CRASH_TEST_TIMINGS = PipelineSettings(
    lease_ttl=1.5,
    poll_interval=0.2,
    turn_retry=Backoff(base=0.2, ceiling=1.0),
    delivery_retry=Backoff(base=0.2, ceiling=1.0),
    delivery_timeout=1.0,
    stop_deadline=2.0,
)


async def serve() -> None:
    runtime = await build_runtime(load_settings())
    port = SinkPort(os.environ["MNEMO_TEST_SINK"])
    engine = Engine(runtime.store, runtime.agents, platforms=[port], settings=CRASH_TEST_TIMINGS)
    agent_id = runtime.default_agent.id

    async def receive(request: web.Request) -> web.Response:
        body = await request.json()
        result = await engine.receive(
            Inbound(
                platform=SinkPort.platform,
                agent_id=agent_id,
                audience=Audience(WORKSPACE, AudienceKind.PUBLIC, body["channel"]),
                thread="",
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
        await port.aclose()
        await runtime.aclose()


if __name__ == "__main__":
    asyncio.run(serve())
