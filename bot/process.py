"""``mnemo run``: one bot process with every configured platform, until SIGTERM.

On SIGTERM (or SIGINT) the process stops taking new work: readiness fails, platform
connections close, and no new turn starts. Running turns get the engine's stop deadline to
finish; the rest are cancelled with their messages left pending for the next start (or
another replica). The HTTP server answers until the engine has stopped, so probes and Slack
retries see a live process while it drains.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from aiohttp import web

from adapters.console import stdin_lines
from bot.http import STOPPING_KEY, build_app
from bot.logging import configure_logging
from bot.platforms import build_platforms
from bot.settings import Settings
from bot.wiring import running

log = logging.getLogger(__name__)


async def serve(settings: Settings) -> int:
    configure_logging(settings)
    async with running(settings) as runtime:
        platforms = build_platforms(settings, runtime.platform_services())
        app = build_app(runtime.http_services(), settings)
        if platforms.slack is not None:
            platforms.slack.mount(app)
        runner = web.AppRunner(app, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, settings.http_host, settings.http_port)
        await site.start()
        host, port = runner.addresses[0][:2]  # the bound port, when MNEMO_HTTP_PORT is 0
        log.info("serving http://%s:%d", host, port, extra={"port": port})

        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await platforms.start()
            if runtime.jobs.runner.settings.enabled:
                runtime.jobs.start()
            if platforms.count == 0 and sys.stdin.isatty():
                console = runtime.console_services()
                agent = console.default_agent
                chat = console.chat(agent, user="you", channel=None)
                print(
                    f"Mnemo is running (http://{settings.http_host}:{settings.http_port}). "
                    f"No Slack or Discord token is set, so you can talk to {agent.name} here. "
                    "/quit to stop."
                )
                chat_task = asyncio.create_task(chat.run(lambda: stdin_lines("you> "), sys.stdout))
                chat_task.add_done_callback(lambda _t: stop.set())
            await stop.wait()
        finally:
            app[STOPPING_KEY].set()
            deadline = runtime.engine.settings.stop_deadline
            log.info("stopping: no new turns; running ones get %.0f s to finish", deadline)
            await platforms.stop()
            await runtime.jobs.stop()
            await runtime.engine.stop()
            await runner.cleanup()
            log.info("stopped")
    return 0
