"""The app installed by a user as well as by servers: its commands follow that user to servers,
group DMs and DMs with other people where the bot is not a member.

The bot reads nothing there and nobody there hears it, so what it answers is the user's alone
(ephemeral) and comes only from their own memory: their DMs with the bot, the one audience that
is theirs alone. A server that did not install the bot never reads, nor gains, server memory
through one of its members' installs.
"""

from __future__ import annotations

import discord
from discord import app_commands

from adapters.discord.audience import dm_workspace
from engine import Audience, AudienceKind

#: Installable to a server (the bot joins it) and to a user (their commands, anywhere).
INSTALLS = app_commands.AppInstallationType(guild=True, user=True)
#: Usable in servers, in the user's DM with the bot, and in group DMs and other DMs.
CONTEXTS = app_commands.AppCommandContext(guild=True, dm_channel=True, private_channel=True)


def is_foreign(interaction: discord.Interaction) -> bool:
    """Asked where the bot is not a member: in a server that did not install it (only the
    user's own install answered), or in a group DM or a DM between other people."""
    if interaction.guild_id is not None:
        return not interaction.is_guild_integration()
    return interaction.context.private_channel or isinstance(
        interaction.channel, discord.GroupChannel
    )


def own_audience(user_id: int) -> Audience:
    """The user's DMs with the bot: the only memory a foreign place may show them."""
    return Audience(dm_workspace(user_id), AudienceKind.DM, "", str(user_id))


def place_of(interaction: discord.Interaction) -> str:
    """Where the memory an answer shows lives, in the answer's words."""
    return "in our DMs (I'm not a member here)" if is_foreign(interaction) else "here"
