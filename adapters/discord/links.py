"""Links to Discord messages and names of Discord channels, for the engine's citations.

A message's jump URL is built, not asked: ``https://discord.com/channels/<guild>/<channel>/
<message>``, with ``@me`` for DMs and the thread's id for a message in a thread. Channel names
come from discord.py's cache; an uncached channel is cited by its id.
"""

from __future__ import annotations

import discord

from adapters.discord.audience import PLATFORM

JUMP_URL = "https://discord.com/channels"
_DM_PREFIX = f"{PLATFORM}:dm:"
_GUILD_PREFIX = f"{PLATFORM}:"


def jump_url(workspace: str, channel: str, message: str, thread: str = "") -> str | None:
    """The link that opens ``message``; None for a workspace or id that is not Discord's."""
    if workspace.startswith(_DM_PREFIX):
        guild = "@me"
    elif workspace.startswith(_GUILD_PREFIX):
        guild = workspace.removeprefix(_GUILD_PREFIX)
    else:
        return None
    where = thread or channel
    if not all(part.isdigit() for part in (where, message)) or not (
        guild == "@me" or guild.isdigit()
    ):
        return None
    return f"{JUMP_URL}/{guild}/{where}/{message}"


class DiscordLinks:
    """The ``engine.LinkPort`` side of the Discord platform port (``DiscordDelivery``)."""

    def __init__(self, client: discord.Client) -> None:
        self._client = client

    async def permalink(
        self, workspace: str, channel: str, platform_ref: str, thread: str = ""
    ) -> str | None:
        return jump_url(workspace, channel, platform_ref, thread)

    async def channel_name(self, workspace: str, channel: str) -> str | None:
        if not channel.isdigit():
            return None
        found = self._client.get_channel(int(channel))
        name = getattr(found, "name", None)
        return f"#{name}" if isinstance(name, str) and name else None
