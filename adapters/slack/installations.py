"""Slack OAuth installations and OAuth state kept in Mnemo's own key-value store.

slack_sdk ships file, SQL and S3 stores but none for MongoDB; these keep installations wherever
the engine's store lives, so every replica of the bot sees every workspace.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from typing import Any

from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore

from engine import KeyValueStore

INSTALLATIONS = "slack.installations"
OAUTH_STATES = "slack.oauth_states"
_NONE = "-"

log = logging.getLogger(__name__)


def _team_key(enterprise_id: str | None, team_id: str | None, is_enterprise: bool | None) -> str:
    """Records are keyed by team id (what a Mnemo workspace id holds); an org-wide
    (Enterprise Grid) install, which serves every team of the org, by its org id."""
    if is_enterprise or not team_id:
        return f"org:{enterprise_id or _NONE}"
    return f"team:{team_id}"


class KeyValueInstallationStore(AsyncInstallationStore):
    """Bot and installer records per workspace (and per installing user)."""

    def __init__(self, kv: KeyValueStore) -> None:
        self._kv = kv
        #: Workspaces already noted as served by an org-wide install (by this process).
        self._noted: set[tuple[str, str]] = set()

    @property
    def logger(self) -> logging.Logger:
        return log

    async def note_org_workspace(self, team: str, enterprise: str) -> None:
        """Remember that ``team`` is served by ``enterprise``'s org-wide install, so replies
        to that workspace find the org's token (Mnemo's workspace ids name the workspace)."""
        if (team, enterprise) in self._noted or team == enterprise:
            return
        await self._kv.put(INSTALLATIONS, f"org-of:{team}", {"enterprise_id": enterprise})
        self._noted.add((team, enterprise))

    async def find_workspace_bot(self, team: str) -> Bot | None:
        """The bot serving workspace ``team``: its own install, else its org's org-wide one
        (``team`` may also be the org itself, for events no workspace could be told of)."""
        bot = await self.async_find_bot(enterprise_id=None, team_id=team)
        if bot is not None:
            return bot
        org: object = team
        if not team.startswith("E"):
            noted = await self._kv.get(INSTALLATIONS, f"org-of:{team}")
            org = noted.get("enterprise_id") if noted is not None else None
        if not isinstance(org, str) or not org:
            return None
        return await self.async_find_bot(
            enterprise_id=org, team_id=None, is_enterprise_install=True
        )

    async def async_save(self, installation: Installation) -> None:
        team = _team_key(
            installation.enterprise_id, installation.team_id, installation.is_enterprise_install
        )
        record = dict(vars(installation))
        await self._kv.put(INSTALLATIONS, f"installer:{team}:latest", record)
        await self._kv.put(
            INSTALLATIONS, f"installer:{team}:user:{installation.user_id or _NONE}", record
        )
        await self.async_save_bot(installation.to_bot())

    async def async_save_bot(self, bot: Bot) -> None:
        if not bot.bot_token:
            return
        team = _team_key(bot.enterprise_id, bot.team_id, bot.is_enterprise_install)
        await self._kv.put(INSTALLATIONS, f"bot:{team}", dict(vars(bot)))

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        team = _team_key(enterprise_id, team_id, is_enterprise_install)
        record = await self._kv.get(INSTALLATIONS, f"bot:{team}")
        return Bot(**record) if record is not None else None

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        team = _team_key(enterprise_id, team_id, is_enterprise_install)
        which = f"user:{user_id}" if user_id else "latest"
        record = await self._kv.get(INSTALLATIONS, f"installer:{team}:{which}")
        if record is None:
            return None
        installation = Installation(**record)
        bot = await self.async_find_bot(
            enterprise_id=enterprise_id,
            team_id=team_id,
            is_enterprise_install=is_enterprise_install,
        )
        if bot is not None and bot.bot_token != installation.bot_token:
            # A later install by someone else rotated the bot token: use the newest one.
            installation.bot_id = bot.bot_id
            installation.bot_user_id = bot.bot_user_id
            installation.bot_token = bot.bot_token
            installation.bot_scopes = bot.bot_scopes
            installation.bot_refresh_token = bot.bot_refresh_token
            installation.bot_token_expires_at = bot.bot_token_expires_at
        return installation

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self._kv.delete(INSTALLATIONS, f"bot:{_team_key(enterprise_id, team_id, False)}")

    async def async_delete_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
    ) -> None:
        team = _team_key(enterprise_id, team_id, False)
        if user_id:
            await self._kv.delete(INSTALLATIONS, f"installer:{team}:user:{user_id}")
            return
        for key, _ in await self._kv.list(INSTALLATIONS, prefix=f"installer:{team}:"):
            await self._kv.delete(INSTALLATIONS, key)


class KeyValueOAuthStateStore(AsyncOAuthStateStore):
    """One-time ``state`` values of the OAuth flow, valid for ``expiration_seconds``."""

    def __init__(
        self,
        kv: KeyValueStore,
        expiration_seconds: float = 600.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._kv = kv
        self._ttl = expiration_seconds
        self._clock = clock

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        state = secrets.token_urlsafe(24)
        await self._kv.put(OAUTH_STATES, state, {"expires_at": self._clock() + self._ttl})
        return state

    async def async_consume(self, state: str) -> bool:
        record = await self._kv.get(OAUTH_STATES, state)
        # Deleting is the claim: of two racing callbacks with one state, only one wins.
        if record is None or not await self._kv.delete(OAUTH_STATES, state):
            return False
        return float(record.get("expires_at", 0.0)) > self._clock()
