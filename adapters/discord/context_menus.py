"""Message commands (a message's menu → Apps): "Remember this message" keeps it in archival
memory, readable only where it was said; "Forget this message" forgets a message the user
wrote, with everything derived from it, and refuses anyone else's.

Both answer only the user who asked (ephemeral). Where the bot is not a member (a user
install, see ``user_install``) a kept message goes to the asker's own DM memory: nobody there
can hear the bot, and it cannot tell who may read the channel.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import discord
from discord import app_commands

from adapters.discord.audience import (
    PLATFORM,
    UnmappableChannel,
    conversation_of,
    guild_workspace,
)
from adapters.discord.content import readable_text
from adapters.discord.user_install import CONTEXTS, INSTALLS, is_foreign, own_audience
from adapters.readers import readers
from engine import Audience, PlatformMessage, UserMemory, render_forget

log = logging.getLogger(__name__)

REMEMBER = "Remember this message"
FORGET = "Forget this message"


@dataclass(frozen=True)
class PointedAt:
    """A message a user chose, and the audience whatever is kept of it belongs to."""

    message: PlatformMessage
    audience: Audience
    #: Said in a place where the bot is not a member.
    foreign: bool


def pointed_at(interaction: discord.Interaction, message: discord.Message) -> PointedAt:
    """The message and its audience. Raises ``UnmappableChannel`` for a server channel the bot
    cannot see (so cannot tell who reads it)."""
    user = interaction.user.id
    channel_id = str(message.channel.id)
    foreign = is_foreign(interaction)
    if foreign:
        audience = own_audience(user)
        home = guild_workspace(message.guild.id) if message.guild else f"{PLATFORM}:{channel_id}"
        where = (home, channel_id)
    else:
        # In the bot's DM the DM is the asker's; discord.py resolves a server message's
        # channel from its cache, which holds who may read it.
        channel = interaction.channel if interaction.guild_id is None else message.channel
        audience, _ = conversation_of(channel, user)
        where = (audience.workspace, audience.channel)
    me = interaction.client.user
    text = readable_text(message, me) if me is not None else message.content
    said = PlatformMessage(
        where[0],
        where[1],
        str(message.id),
        str(message.author.id),
        message.author.display_name,
        text,
        message.created_at,
    )
    return PointedAt(said, audience, foreign)


def message_commands(memory: UserMemory, agent_id: str) -> list[app_commands.ContextMenu]:
    """The two message commands, bound to the engine's user-memory port and one agent."""

    async def remember(interaction: discord.Interaction, message: discord.Message) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await interaction.followup.send(
            await _remember(memory, agent_id, interaction, message), ephemeral=True
        )

    async def forget(interaction: discord.Interaction, message: discord.Message) -> None:
        if message.author.id != interaction.user.id:
            await interaction.response.send_message(
                f"I can only forget messages you wrote; this one is "
                f"{message.author.display_name}'s. Use /forget for what I keep about you.",
                ephemeral=True,
            )
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        await interaction.followup.send(await _forget(memory, interaction, message), ephemeral=True)

    return [
        app_commands.ContextMenu(
            name=REMEMBER, callback=remember, allowed_contexts=CONTEXTS, allowed_installs=INSTALLS
        ),
        app_commands.ContextMenu(
            name=FORGET, callback=forget, allowed_contexts=CONTEXTS, allowed_installs=INSTALLS
        ),
    ]


async def _remember(
    memory: UserMemory, agent_id: str, interaction: discord.Interaction, message: discord.Message
) -> str:
    try:
        chosen = pointed_at(interaction, message)
    except UnmappableChannel as error:
        log.info("discord message %s not kept: %s", message.id, error)
        return (
            "I can't see this channel, so I can't tell who may read it: I kept nothing. "
            "Ask me in a channel I'm in."
        )
    if not chosen.message.text:
        return "That message has no text I can keep."
    kept = await memory.remember_message(
        agent_id, chosen.audience, chosen.message, str(interaction.user.id)
    )
    if not kept:
        return "I already keep that message."
    if chosen.foreign:
        return "Kept in your own memory: I'm not a member here, so I'll use it only in our DMs."
    return f"Kept. {readers(chosen.audience.kind, 'server')}."


async def _forget(
    memory: UserMemory, interaction: discord.Interaction, message: discord.Message
) -> str:
    try:
        chosen = pointed_at(interaction, message)
    except UnmappableChannel as error:
        log.info("discord message %s not forgotten: %s", message.id, error)
        return "I can't see this channel, so I keep nothing from it."
    removed = await memory.forget_message(chosen.message, str(interaction.user.id))
    if removed is None:
        return "I can only forget messages you wrote."
    log.info("forgot discord message %s: %d records", message.id, removed.total)
    if not removed.total:
        return "I kept nothing from that message."
    return f"Forgotten: that message and what I took from it ({render_forget(removed)})."
