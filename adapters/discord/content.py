"""What a Discord message says, as text the agent can read.

Its content with mentions as @names, then what it forwards (with where it came from); an
embeds-only post keeps its titles and descriptions; a message that is only the bot's mention
is "@Mnemo", so it is answered ("yes?") rather than refused as empty.
"""

from __future__ import annotations

import re

import discord

from adapters.discord.audience import UnmappableChannel, conversation_of
from engine import AudienceKind

#: A user mention and the one space after it, dropped with the bot's own mention.
_USER_MENTION = re.compile(r"<@!?(\d+)>( ?)")


def readable_text(message: discord.Message, me: discord.abc.User) -> str:
    """The message's own words, then each forwarded message, blank-line separated."""
    parts = [text] if (text := _without_own_mention(message, me)) else []
    origin = _forward_origin(message)
    for snapshot in message.message_snapshots:
        forwarded = snapshot.content.strip() or _embed_text(snapshot.embeds)
        stamp = snapshot.created_at.strftime("%Y-%m-%d %H:%M UTC")
        parts.append(f"[forwarded from {origin}, {stamp}]\n{forwarded}".rstrip())
    if not parts and (embedded := _embed_text(message.embeds)):
        parts.append(embedded)
    if not parts and not message.attachments and any(u.id == me.id for u in message.mentions):
        parts.append(f"@{me.display_name}")
    return "\n\n".join(parts)


def attachment_urls(message: discord.Message) -> tuple[str, ...]:
    """The message's files, then those of the messages it forwards."""
    files = [*message.attachments]
    for snapshot in message.message_snapshots:
        files.extend(snapshot.attachments)
    return tuple(attachment.url for attachment in files)


def _without_own_mention(message: discord.Message, me: discord.abc.User) -> str:
    """The content with the bot's own mention dropped and other users' mentions as @names."""
    names = {user.id: user.display_name for user in message.mentions}

    def rewrite(match: re.Match[str]) -> str:
        user_id = int(match.group(1))
        if user_id == me.id:
            return ""
        name = names.get(user_id)
        return f"@{name}{match.group(2)}" if name is not None else match.group(0)

    return _USER_MENTION.sub(rewrite, message.content).strip()


def _embed_text(embeds: list[discord.Embed]) -> str:
    """Titles and descriptions: what a person reads of a rich post."""
    lines = [text.strip() for e in embeds for text in (e.title, e.description) if text]
    return "\n".join(line for line in lines if line)


def _forward_origin(message: discord.Message) -> str:
    """Where a forwarded message was first posted, named only when the place is public to
    this guild: a forward shares the message, not the name of a private channel."""
    reference = message.reference
    if reference is None or reference.guild_id is None:
        return "a direct message"
    guild = message.guild
    if guild is None or reference.guild_id != guild.id:
        return "another server"
    channel = guild.get_channel_or_thread(reference.channel_id)
    try:
        audience, _ = conversation_of(channel, 0)
    except UnmappableChannel:
        return "another channel"
    if audience.kind is not AudienceKind.PUBLIC or channel is None:
        return "another channel"
    return f"#{channel.name}"
