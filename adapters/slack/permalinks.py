"""Links to Slack messages and names of Slack channels, for the engine's citations.

``chat.getPermalink`` is asked once per message (a permalink never changes) and channel names
come from the directory's cached ``conversations.info``. Each call is bounded by a short
timeout; an unknown workspace, a refusal or a slow answer gives no link, never an error.
"""

from __future__ import annotations

import asyncio
import logging

from slack_sdk.errors import SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.clients import WorkspaceClients
from adapters.slack.config import PLATFORM
from adapters.slack.directory import SlackDirectory, TtlCache
from adapters.slack.events import team_of
from engine import DeliveryError

log = logging.getLogger(__name__)

PERMALINK_TIMEOUT_S = 1.5
#: Permalinks are stable; the cache is bounded only so a long-running process stays small.
PERMALINK_TTL_S = 7 * 24 * 3600.0


class SlackLinks:
    """The ``engine.LinkPort`` side of the Slack platform port (``SlackDelivery``)."""

    def __init__(
        self,
        clients: WorkspaceClients,
        directory: SlackDirectory,
        timeout: float = PERMALINK_TIMEOUT_S,
    ) -> None:
        self._clients = clients
        self._directory = directory
        self._timeout = timeout
        self._links: TtlCache[tuple[str, str, str], str] = TtlCache(PERMALINK_TTL_S)

    async def permalink(
        self, workspace: str, channel: str, platform_ref: str, thread: str = ""
    ) -> str | None:
        """The message's permalink (a reply's in its thread: Slack knows it by its ts)."""
        key = (workspace, channel, platform_ref)
        cached = self._links.get(key)
        if cached is not None:
            return cached
        client = await self._client(workspace)
        if client is None:
            return None
        try:
            async with asyncio.timeout(self._timeout):
                response = await client.chat_getPermalink(channel=channel, message_ts=platform_ref)
        except (SlackClientError, TimeoutError) as error:
            log.info("chat.getPermalink failed for %s in %s: %r", platform_ref, channel, error)
            return None
        link = response.get("permalink")
        if not isinstance(link, str) or not link.startswith("https://"):
            return None
        self._links.put(key, link)
        return link

    async def channel_name(self, workspace: str, channel: str) -> str | None:
        client = await self._client(workspace)
        if client is None:
            return None
        found = await self._directory.channel(client, team_of(workspace), channel, "")
        return found.name or None

    async def _client(self, workspace: str) -> AsyncWebClient | None:
        """The bot's client for ``workspace``; None for another platform's workspace or a
        workspace the app is no longer installed in."""
        if not workspace.startswith(f"{PLATFORM}:"):
            return None
        try:
            return await self._clients.for_team(team_of(workspace))
        except DeliveryError:
            return None
