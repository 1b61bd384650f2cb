"""Where discord.py sends REST calls and opens its gateway: Discord's own, or configured ones.

discord.py keeps its REST base and gateway URL on classes, not on a client, so a bot that talks
to other endpoints (a proxy, the test fakes) sets them for its run and puts them back after.
"""

from __future__ import annotations

import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route


class Endpoints:
    """The configured REST base and gateway URL, in force between ``point`` and ``restore``."""

    def __init__(self, api_base: str | None, gateway_url: str | None) -> None:
        self._api_base = api_base
        self._gateway_url = gateway_url
        self._saved: tuple[str, yarl.URL] | None = None

    def point(self) -> None:
        """Send discord.py's calls to the configured endpoints (nothing when none is set)."""
        if self._api_base is None and self._gateway_url is None:
            return
        self._saved = (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY)
        if self._api_base is not None:
            Route.BASE = self._api_base
        if self._gateway_url is not None:
            DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self._gateway_url)

    def restore(self) -> None:
        """Put back the endpoints that were in force before ``point``."""
        if self._saved is not None:
            Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = self._saved
            self._saved = None
