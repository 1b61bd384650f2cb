"""Buttons, menus and forms that nothing in this process answers any more: a ``/memory`` or
``/forget`` answer whose time ran out, one from before the bot restarted, or a forged id.
Discord would show "This interaction failed"; the user gets a short note saying what to do.

discord.py drops such an interaction silently and keeps no public record of the views it
holds, so whether one is live is read from its view store as the event arrives, before
discord.py dispatches it (afterwards a view that just answered may already be gone).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import discord

log = logging.getLogger(__name__)

STALE = "Those buttons have expired: run the command again (/memory, /forget)."
_COMPONENT = 3
_MODAL_SUBMIT = 5

type Parser = Callable[[Any], None]


class StaleComponents:
    """Answers component presses and form submits that no live view or form handles."""

    def __init__(self, client: discord.Client) -> None:
        self._client = client
        self._stale: set[int] = set()

    def watch(self, parsers: dict[str, Parser]) -> None:
        """Wrap the client's INTERACTION_CREATE parser (``ConnectionState.parsers``)."""
        parse = parsers["INTERACTION_CREATE"]

        def parse_noting_stale(data: Any) -> None:
            if self._is_stale(data):
                self._stale.add(int(data["id"]))
            parse(data)

        parsers["INTERACTION_CREATE"] = parse_noting_stale

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        if interaction.id not in self._stale:
            return
        self._stale.discard(interaction.id)
        log.info("discord component %.100s has no live view", interaction.data)
        try:
            await interaction.response.send_message(STALE, ephemeral=True)
        except discord.HTTPException as failure:
            log.info("answering an expired discord component failed: %r", failure)

    def _is_stale(self, data: Mapping[str, Any]) -> bool:
        kind = data.get("type")
        if kind not in (_COMPONENT, _MODAL_SUBMIT):
            return False
        inner = data.get("data") or {}
        custom_id = str(inner.get("custom_id"))
        views = self._client._connection._view_store  # no public lookup of live views
        if kind == _MODAL_SUBMIT:
            return custom_id not in views._modals
        if any(pattern.fullmatch(custom_id) for pattern in views._dynamic_items):
            return False
        key = (inner.get("component_type"), custom_id)
        message_id = (data.get("message") or {}).get("id")
        entity = int(message_id) if isinstance(message_id, str) and message_id.isdigit() else None
        on_message = views._views.get(entity, {})
        return key not in on_message and key not in views._views.get(None, {})
