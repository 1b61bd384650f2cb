"""``mnemo run``: one bot process with every configured platform, until SIGTERM.

On SIGTERM (or SIGINT) the process stops taking new work: readiness fails, platform
connections close, and no new turn starts. Running turns get the engine's stop deadline to
finish; the rest are cancelled with their messages left pending for the next start (or
another replica). The HTTP server answers until the engine has stopped, so probes and Slack
retries see a live process while it drains.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import signal
import socket
import sys

import aiohttp
from aiohttp import web

from adapters.console import stdin_lines
from bot.http import PLATFORMS_KEY, STOPPING_KEY, build_app
from bot.inspector import inspector_link
from bot.logging import configure_logging
from bot.platforms import Endpoints, Platforms, build_platforms
from bot.settings import Settings, SettingsError
from bot.wiring import running

log = logging.getLogger(__name__)


async def serve(settings: Settings, *, endpoints: Endpoints | None = None) -> int:
    """Serve until SIGTERM; ``endpoints`` stand in for the public Slack and Discord APIs."""
    configure_logging(settings)
    async with running(settings) as runtime:
        platforms = build_platforms(
            settings, runtime.platform_services(), endpoints=endpoints or Endpoints()
        )
        app = build_app(runtime.http_services(), settings)
        app[PLATFORMS_KEY] = platforms
        runtime.metrics.watch_gateway_restarts(lambda: platforms.gateway_restarts)
        if platforms.slack is not None:
            platforms.slack.mount(app)
        runner = web.AppRunner(app, handle_signals=False)
        await runner.setup()
        try:
            await web.TCPSite(runner, settings.http_host, settings.http_port).start()
        except OSError as exc:
            await runner.cleanup()
            raise _unservable(settings, exc) from None
        host, port = runner.addresses[0][:2]  # the bound port, when MNEMO_HTTP_PORT is 0
        log.info("serving http://%s:%d", host, port, extra={"port": port})
        link = inspector_link(app, host, port)
        if link is not None:
            # The token goes to the terminal only, never to the logs.
            print(f"Inspector: {link}", flush=True)

        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await _start(platforms)
            if runtime.jobs.runner.settings.enabled:
                runtime.jobs.start()
            if platforms.count == 0 and sys.stdin.isatty():
                console = runtime.console_services()
                agent = console.default_agent
                chat = console.chat(agent, user="you", channel=None)
                print(
                    f"Mnemo is running (http://{host}:{port}). "
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


def _unservable(settings: Settings, error: OSError) -> SettingsError:
    """Why the HTTP server cannot listen, naming the setting to change."""
    where = f"{settings.http_host}:{settings.http_port}"
    if isinstance(error, socket.gaierror) or not error.errno:
        reason = str(error)  # a host name that does not resolve: no OS error number
    else:
        reason = os.strerror(error.errno)
    if error.errno in (errno.EADDRINUSE, errno.EACCES):
        return SettingsError(
            f"MNEMO_HTTP_PORT: cannot listen on {where} ({reason}): stop the server using it "
            "or set MNEMO_HTTP_PORT to a free port (0 picks one)"
        )
    return SettingsError(
        f"MNEMO_HTTP_HOST: cannot listen on {where} ({reason}): set it to an address of this "
        "machine, e.g. 127.0.0.1 or 0.0.0.0"
    )


async def _start(platforms: Platforms) -> None:
    """Connect every bot; a platform that cannot be reached or refuses its token stops the
    start with one line, instead of a bot that never answers."""
    try:
        await platforms.start()
    except (OSError, TimeoutError, RuntimeError, aiohttp.ClientError) as exc:
        tokens = [
            name
            for name, configured in (
                ("SLACK_BOT_TOKEN", platforms.slack),
                ("DISCORD_TOKEN", platforms.discord),
                ("the agents file's token variables", platforms.agent_bots),
            )
            if configured
        ]
        raise SettingsError(
            f"A bot could not connect ({exc}): check the network and {' and '.join(tokens)}, "
            f"or unset {'it' if len(tokens) == 1 else 'them'} to chat in this terminal"
        ) from None
