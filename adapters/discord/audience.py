"""Who hears a Discord conversation, and so which memory a turn there may read (DESIGN §3).

Workspaces: a guild is ``discord:<guild id>``; each user's DMs with the bot are their own
workspace ``discord:dm:<user id>``. User facts told in DMs therefore stay private to DMs with
that user: no guild audience can ever read them, and one guild never reads another's memory.
"""

from __future__ import annotations

import discord

from engine import Audience, AudienceKind

PLATFORM = "discord"


class UnmappableChannel(Exception):
    """A message arrived somewhere whose audience cannot be known (an uncached channel)."""


def guild_workspace(guild_id: int) -> str:
    return f"{PLATFORM}:{guild_id}"


def dm_workspace(user_id: int) -> str:
    """The one workspace of all of a user's DMs with the bot."""
    return f"{PLATFORM}:dm:{user_id}"


def conversation_of(channel: object, author_id: int) -> tuple[Audience, str]:
    """The audience of a message in ``channel`` by ``author_id``, and its thread id ("" if none).

    A public thread is a conversation of its parent's audience; a private thread is private to
    itself (its members are fewer than the parent's), so it is its own channel.
    """
    if isinstance(channel, discord.DMChannel):
        workspace = dm_workspace(author_id)
        return Audience(workspace, AudienceKind.DM, str(channel.id), str(author_id)), ""
    if isinstance(channel, discord.Thread):
        workspace = guild_workspace(channel.guild.id)
        if channel.is_private():
            return Audience(workspace, AudienceKind.PRIVATE, str(channel.id)), ""
        parent = channel.parent
        if parent is None:
            raise UnmappableChannel(f"thread {channel.id} has no cached parent channel")
        return _guild_channel_audience(parent), str(channel.id)
    if isinstance(channel, discord.abc.GuildChannel):
        return _guild_channel_audience(channel), ""
    raise UnmappableChannel(f"messages in {type(channel).__name__} {getattr(channel, 'id', '?')}")


def _guild_channel_audience(channel: discord.abc.GuildChannel) -> Audience:
    """Public when @everyone may view the channel, else private to that channel."""
    workspace = guild_workspace(channel.guild.id)
    everyone = channel.permissions_for(channel.guild.default_role)
    kind = AudienceKind.PUBLIC if everyone.view_channel else AudienceKind.PRIVATE
    return Audience(workspace, kind, str(channel.id))
