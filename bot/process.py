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
import gc
import logging
import os
import signal
import socket
import sys
from collections.abc import Awaitable

import aiohttp
from aiohttp import web

from adapters.console import stdin_lines
from bot.http import PLATFORMS_KEY, STOPPING_KEY, build_app
from bot.inspector import inspector_link
from bot.logging import configure_logging
from bot.platforms import Endpoints, Platforms, build_platforms
from bot.settings import Settings, SettingsError
from bot.wiring import Runtime, running

log = logging.getLogger(__name__)

_SIGNALS = (signal.SIGINT, signal.SIGTERM)
#: Seconds platform connections get to close; they close in parallel with draining turns.
PLATFORMS_CLOSE_S = 1.5
#: Seconds the HTTP server waits for requests in progress when it closes.
HTTP_CLOSE_S = 0.5


async def serve(settings: Settings, *, endpoints: Endpoints | None = None) -> int:
    """Serve until SIGTERM; ``endpoints`` stand in for the public Slack and Discord APIs.

    A signal while the bot is still starting (building its parts, connecting its platforms)
    cancels the start, so the process stops within MNEMO_STOP_DEADLINE whatever it was
    waiting on."""
    configure_logging(settings)
    stop = _StopSignal(asyncio.current_task())
    try:
        return await _serve(settings, endpoints or Endpoints(), stop)
    except asyncio.CancelledError:
        if not stop.interrupted_start:
            raise
        _uncancel()
        log.info("stopped while starting")
        return 0
    finally:
        stop.close()
        # The process exits next: the interpreter's last collection would walk every object
        # of the loaded libraries, seconds of the stop deadline on a busy machine.
        gc.freeze()


async def _serve(settings: Settings, endpoints: Endpoints, stop: _StopSignal) -> int:
    async with running(settings) as runtime:
        platforms = build_platforms(settings, runtime.platform_services(), endpoints=endpoints)
        app = build_app(runtime.http_services(), settings)
        app[PLATFORMS_KEY] = platforms
        runtime.metrics.watch_gateway_restarts(lambda: platforms.gateway_restarts)
        if platforms.slack is not None:
            platforms.slack.mount(app)
        runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=HTTP_CLOSE_S)
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
                chat_task.add_done_callback(lambda _t: stop.event.set())
            await stop.serving()
        finally:
            app[STOPPING_KEY].set()
            await _stop(settings, platforms, runtime, runner)
    return 0


class _StopSignal:
    """SIGTERM and SIGINT: once the bot serves, they set ``event``; while it is still
    starting, they also cancel the start (``task``), which may be waiting on anything."""

    def __init__(self, task: asyncio.Task[object] | None) -> None:
        self.event = asyncio.Event()
        self.interrupted_start = False
        self._task = task
        self._serving = False
        self._loop = asyncio.get_running_loop()
        for sig in _SIGNALS:
            self._loop.add_signal_handler(sig, self._received, sig)

    async def serving(self) -> None:
        """Wait for the signal, now that every part has started."""
        self._serving = True
        await self.event.wait()

    def close(self) -> None:
        for sig in _SIGNALS:
            self._loop.remove_signal_handler(sig)

    def _received(self, sig: signal.Signals) -> None:
        if self.event.is_set():
            log.info("%s: already stopping", sig.name)
            return
        self.event.set()
        if not self._serving and self._task is not None:
            log.info("%s while starting: stopping", sig.name)
            self.interrupted_start = True
            self._task.cancel()


async def _stop(
    settings: Settings, platforms: Platforms, runtime: Runtime, runner: web.AppRunner
) -> None:
    """Stop within MNEMO_STOP_DEADLINE: platform connections close and background jobs end
    while running turns get their part of the deadline; then the HTTP server closes."""
    loop = asyncio.get_running_loop()
    ends = loop.time() + settings.stop_deadline
    turns = runtime.engine.settings.stop_deadline
    log.info("stopping: no new turns; running ones get %.0f s to finish", turns)
    await asyncio.gather(
        _within(platforms.stop(), PLATFORMS_CLOSE_S, "closing platform connections"),
        _within(runtime.jobs.stop(), turns, "ending background jobs"),
        runtime.engine.stop(),
    )
    await _within(runner.cleanup(), max(ends - loop.time(), 0.1), "closing the HTTP server")
    log.info("stopped")


async def _within(step: Awaitable[None], seconds: float, what: str) -> None:
    """Run ``step`` for at most ``seconds``; past that it is cancelled and the stop goes on."""
    try:
        async with asyncio.timeout(seconds):
            await step
    except TimeoutError:
        log.warning("%s took longer than %.1f s; stopped waiting", what, seconds)


def _uncancel() -> None:
    task = asyncio.current_task()
    if task is not None:
        task.uncancel()


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
