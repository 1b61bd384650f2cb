"""Web API clients per workspace, with slack_sdk's retry handlers for 429s and 5xx."""

from __future__ import annotations

from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.config import SlackConfig
from adapters.slack.installations import KeyValueInstallationStore
from engine import DeliveryError

CLIENT_TIMEOUT_S = 15


def build_client(config: SlackConfig, token: str | None = None) -> AsyncWebClient:
    """A client that waits out rate limits (``Retry-After``) and retries server errors."""
    client = AsyncWebClient(token=token, base_url=config.api_base_url, timeout=CLIENT_TIMEOUT_S)
    client.retry_handlers = [
        AsyncConnectionErrorRetryHandler(max_retry_count=2),
        AsyncRateLimitErrorRetryHandler(max_retry_count=2),
        AsyncServerErrorRetryHandler(max_retry_count=2),
    ]
    return client


class WorkspaceClients:
    """The bot's client for a Slack team: the configured token, or the team's installation."""

    def __init__(
        self, config: SlackConfig, installations: KeyValueInstallationStore | None = None
    ) -> None:
        self._config = config
        self._installations = installations
        self._by_token: dict[str, AsyncWebClient] = {}

    async def for_team(self, team: str) -> AsyncWebClient:
        token = self._config.bot_token
        if self._installations is not None:
            bot = await self._installations.find_workspace_bot(team)
            if bot is None:
                raise DeliveryError(
                    f"Slack workspace {team} has no installation: the app was uninstalled",
                    permanent=True,
                )
            token = bot.bot_token
        client = self._by_token.get(token)
        if client is None:
            client = self._by_token[token] = build_client(self._config, token)
        return client
