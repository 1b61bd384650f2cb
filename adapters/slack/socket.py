"""Slack Socket Mode held open for as long as the adapter runs, and closed at once on stop.

slack_sdk's client retries a failed connection forever, a traceback every few seconds, and
nothing outside it can end the loop. Here each connection attempt is one try
(``_OneAttemptClient``); ``SocketModeLink`` decides when to try again, backing off, logs once
per change of state (connected, refused, unreachable), and tells the process at start when
Slack refuses the app's tokens, so a bad token is one line instead of an endless retry.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.web.async_client import AsyncWebClient

from engine import Backoff

log = logging.getLogger(__name__)

#: Seconds ``open()`` waits for the first connection before the start fails.
START_TIMEOUT = 60.0
#: Seconds one connection attempt (the URL from Slack, then the websocket) may take.
ATTEMPT_TIMEOUT = 15.0
#: Seconds between checks that the connection is still alive.
CHECK_INTERVAL = 1.0
#: Slack's ping interval for the websocket; four missed pongs count as a dead connection.
PING_INTERVAL = 10.0
RECONNECT_BACKOFF = Backoff(base=1.0, ceiling=30.0)
#: Slack's answers to a token that will never work as it is.
_REFUSALS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "not_allowed_token_type",
        "missing_scope",
        "no_permission",
    }
)


class SlackRefused(RuntimeError):
    """Slack refuses a token: retrying does not help until it is replaced."""


class _OneAttemptClient(SocketModeClient):
    """slack_sdk's Socket Mode client whose ``connect`` tries once and raises why it failed;
    it never reconnects by itself (``SocketModeLink`` does)."""

    async def connect(self) -> None:
        old = self.current_session
        if old is not None and not old.closed:
            await old.close()
        if self.aiohttp_client_session.closed:
            self.aiohttp_client_session = aiohttp.ClientSession()
        response = await self.web_client.apps_connections_open(app_token=self.app_token)
        self.wss_uri = str(response["url"])
        session = await self.aiohttp_client_session.ws_connect(
            self.wss_uri, autoping=False, heartbeat=self.ping_interval, proxy=self.proxy
        )
        self.current_session = session
        self.stale = False
        self.last_ping_pong_time = None
        await session.ping(f"sdk-ping-pong:{time.time()}".encode())
        for task in (self.current_session_monitor, self.message_receiver):
            if task is not None:
                task.cancel()
        self.current_session_monitor = asyncio.ensure_future(self.monitor_current_session())
        self.message_receiver = asyncio.ensure_future(self.receive_messages())


class SocketModeLink:
    """One app's Socket Mode connection: ``open`` connects (or fails the start with one line),
    a background task keeps it connected, ``close`` ends it."""

    def __init__(
        self, app_token: str, web_client: AsyncWebClient, *, start_timeout: float = START_TIMEOUT
    ) -> None:
        self._start_timeout = start_timeout
        web_client.retry_handlers = []  # the link retries, backing off; the client's would log
        self.client = _OneAttemptClient(
            app_token=app_token,
            logger=log,
            web_client=web_client,
            auto_reconnect_enabled=False,
            ping_interval=PING_INTERVAL,
        )
        #: Why the app hears nothing now; None while connected.
        self.problem: str | None = "Slack Socket Mode not connected yet"
        self._connected = asyncio.Event()
        self._refused: SlackRefused | None = None
        self._holder: asyncio.Task[None] | None = None
        self._jitter = random.Random()

    async def open(self) -> None:
        """Connect; raise ``SlackRefused`` if Slack refuses the token, ``TimeoutError`` if no
        connection comes up within the start timeout (Slack unreachable)."""
        timeout = self._start_timeout
        self._holder = asyncio.create_task(self._hold(), name="slack-socket-mode")
        self._holder.add_done_callback(_log_failure)
        connected = asyncio.create_task(self._connected.wait())
        try:
            await asyncio.wait(
                {self._holder, connected}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            connected.cancel()
        if self._connected.is_set():
            return
        problem = self.problem
        await self.close()
        if self._refused is not None:
            raise self._refused
        raise TimeoutError(
            f"Slack Socket Mode did not connect within {timeout:.0f} s ({problem}): "
            "check the network and Slack's status page"
        )

    async def close(self) -> None:
        """Stop reconnecting and close the connection (at once: nothing waits on Slack)."""
        holder, self._holder = self._holder, None
        if holder is not None:
            holder.cancel()
            await asyncio.wait({holder})
        await self.client.close()  # type: ignore[no-untyped-call]

    async def _hold(self) -> None:
        failures = 0
        while True:
            if not await self.client.is_connected():
                try:
                    async with asyncio.timeout(ATTEMPT_TIMEOUT):
                        await self.client.connect()
                except (SlackApiError, aiohttp.ClientError, OSError, TimeoutError) as error:
                    failures += 1
                    self._failed(error)
                    if self._refused is not None and not self._connected.is_set():
                        return  # the start fails with the refusal; nothing to retry
                    await asyncio.sleep(RECONNECT_BACKOFF.delay(failures, self._jitter))
                    continue
                failures = 0
                self._up()
            await asyncio.sleep(CHECK_INTERVAL)

    def _up(self) -> None:
        if self._connected.is_set():
            log.info("Slack Socket Mode reconnected")
        else:
            log.info("Slack Socket Mode connected")
        self.problem = None
        self._connected.set()

    def _failed(self, error: BaseException) -> None:
        problem, refused = _describe(error)
        if refused:
            self._refused = SlackRefused(problem)
        if problem == self.problem:
            return
        was_up = self.problem is None
        self.problem = problem
        if was_up:
            log.warning("Slack Socket Mode connection lost: %s; reconnecting", problem)
        else:
            log.warning("Slack Socket Mode cannot connect: %s; retrying with backoff", problem)


def _describe(error: BaseException) -> tuple[str, bool]:
    """A one-line reason for a failed attempt, and whether it is a refusal of the token."""
    if isinstance(error, SlackApiError):
        code = str(error.response.get("error", "")) or f"HTTP {error.response.status_code}"
        if code in _REFUSALS:
            return (
                f"Slack refused the app token ({code}): create an app-level token with the "
                "connections:write scope (Basic Information -> App-Level Tokens) and set it "
                "as SLACK_APP_TOKEN",
                True,
            )
        return f"Slack answered {code}", False
    if isinstance(error, aiohttp.WSServerHandshakeError):
        return f"the Socket Mode websocket was refused (HTTP {error.status})", False
    if isinstance(error, TimeoutError):
        return f"Slack did not answer within {ATTEMPT_TIMEOUT:.0f} s", False
    return f"Slack is unreachable ({type(error).__name__}: {error})", False


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and (error := task.exception()) is not None:
        log.error("Slack Socket Mode stopped reconnecting", exc_info=error)
