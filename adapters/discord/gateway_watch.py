"""One bad gateway event costs that event, never the connection.

discord.py parses each event with one function of its parser table, inside the loop that reads
the websocket: an exception there (a null id, a missing field) ends ``Client.connect()`` and,
unwatched, every later event is lost. ``GatewayWatch`` wraps each parser so a malformed event is
checked, refused with its reason and skipped; anything else that escapes reading the socket
makes the connection RESUME (Discord replays what followed), counted as a restart, and the
platform reports itself down until the gateway says RESUMED or READY again.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import aiohttp
from discord import ConnectionClosed, GatewayNotFound, HTTPException
from discord.gateway import DiscordWebSocket, ReconnectWebSocket

from adapters.discord.payloads import MalformedEvent, check_event, is_unfurl

log = logging.getLogger(__name__)

#: What discord.py's own reconnect loops handle; everything else would end them.
_RECONNECTS = (
    ReconnectWebSocket,
    ConnectionClosed,
    GatewayNotFound,
    HTTPException,
    OSError,
    aiohttp.ClientError,
    TimeoutError,
)
#: Characters of discord.py's error kept as the reason of a refused event.
_REASON_LENGTH = 300
#: The gateway's close code for "unknown error": the session stays resumable.
_CLOSE_RESUMABLE = 4000

type Parser = Callable[[Any], None]
#: (event name, its data, why it was refused): records and logs the refusal, once.
type RefusalHook = Callable[[str, object, str], None]


class GatewayWatch:
    """The health of one bot's gateway connection: restarts counted, and why it is down."""

    def __init__(self, on_refused: RefusalHook) -> None:
        self._on_refused = on_refused
        self._watched: weakref.WeakSet[DiscordWebSocket] = weakref.WeakSet()
        self._sockets: Callable[[], Iterable[DiscordWebSocket | None]] = tuple
        #: Times the connection was restarted after an error discord.py does not handle.
        self.restarts = 0
        #: Why the platform is down now; None while the gateway delivers events.
        self.problem: str | None = None

    def guard(
        self, parsers: dict[str, Parser], sockets: Callable[[], Iterable[DiscordWebSocket | None]]
    ) -> None:
        """Wrap every parser of a client's table (``ConnectionState.parsers``) in place;
        ``sockets`` lists the client's current websockets, watched from each READY/RESUMED."""
        self._sockets = sockets
        for name, parse in list(parsers.items()):
            parsers[name] = self._guarded(name, parse)

    def failed(self, error: BaseException, what: str) -> None:
        """The connection broke for a reason discord.py does not handle; it is being restarted."""
        self.restarts += 1
        self.problem = f"discord gateway down: {what} ({type(error).__name__}); reconnecting"
        log.error("discord gateway %s; reconnecting", what, exc_info=error)

    def _guarded(self, name: str, parse: Parser) -> Parser:
        def parse_checked(data: Any) -> None:
            if is_unfurl(name, data):
                return
            try:
                check_event(name, data)
                parse(data)
            except MalformedEvent as error:
                self._on_refused(name, data, f"malformed {name}: {error}")
            except Exception as error:  # discord.py's parser choked: cost this event only
                reason = repr(error)[:_REASON_LENGTH]  # errors may quote a huge field whole
                self._on_refused(name, data, f"discord.py could not parse {name}: {reason}")
            if name in ("READY", "RESUMED"):
                self._connected()

        return parse_checked

    def _connected(self) -> None:
        self.problem = None
        for socket in self._sockets():
            if socket is not None and socket not in self._watched:
                self._watched.add(socket)
                setattr(socket, "poll_event", self._watching(socket))  # noqa: B010

    def _watching(self, socket: DiscordWebSocket) -> Callable[[], Awaitable[None]]:
        """``socket.poll_event``, turning errors discord.py would die of into a RESUME."""
        poll = socket.poll_event

        async def poll_event() -> None:
            try:
                await poll()
            except _RECONNECTS:
                raise
            except Exception as error:
                self.failed(error, "could not read an event")
                await socket.close(code=_CLOSE_RESUMABLE)
                raise ReconnectWebSocket(socket.shard_id, resume=True) from error

        return poll_event
