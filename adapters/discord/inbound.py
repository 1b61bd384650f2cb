"""Discord events -> intake arrivals: who wrote it, where, whether it addresses the bot.

Whether the agent hears a message, and answers it, is the intake chain's call.
"""

from __future__ import annotations

import re
from datetime import datetime

import discord

from adapters.discord.audience import PLATFORM, conversation_of
from adapters.intake import Arrival
from engine import Author, Inbound, InboundKind

#: A user mention and the one space after it, dropped with the bot's own mention.
_USER_MENTION = re.compile(r"<@!?(\d+)>( ?)")
#: Regular messages and replies; joins, pins, boosts and the like are not conversation.
_CONVERSATION_TYPES = frozenset({discord.MessageType.default, discord.MessageType.reply})


def arrival_from_message(
    message: discord.Message, me: discord.abc.User, agent_id: str
) -> Arrival | None:
    """The arrival of a new message, or None for a notice (a join, a pin, a boost).

    Raises ``UnmappableChannel`` when the message's audience cannot be determined.
    """
    if message.type not in _CONVERSATION_TYPES:
        return None
    return _arrival(message, me, agent_id, str(message.id), message.created_at, InboundKind.MESSAGE)


def edit_from_message(
    message: discord.Message, me: discord.abc.User, agent_id: str
) -> Arrival | None:
    """The arrival that replaces a stored message's text after an edit (MESSAGE_UPDATE), or
    None when the update is not an edit of a message someone wrote.

    Discord also sends updates for embeds unfolding; only those with ``edited_timestamp`` are
    edits. Raises ``UnmappableChannel`` like ``arrival_from_message``.
    """
    if message.edited_at is None or message.type not in _CONVERSATION_TYPES:
        return None
    # One event per edit: a message edited twice is two changes.
    event_id = f"{message.id}:edit:{message.edited_at.isoformat()}"
    return _arrival(message, me, agent_id, event_id, message.edited_at, InboundKind.EDIT)


def deletion_from_event(
    event: discord.RawMessageDeleteEvent, channel: object, bot_user: str, agent_id: str
) -> Arrival | None:
    """The arrival that removes a deleted message from recall (MESSAGE_DELETE), or None
    when nothing says where it was: an uncached channel, or a DM whose partner is unknown.

    Raises ``UnmappableChannel`` like ``arrival_from_message``.
    """
    if channel is None:
        return None
    if isinstance(channel, discord.DMChannel):
        if channel.recipient is None:
            return None
        audience, thread = conversation_of(channel, channel.recipient.id)
    else:
        audience, thread = conversation_of(channel, 0)  # the author only matters in DMs
    author = event.cached_message.author if event.cached_message is not None else None
    message_id = str(event.message_id)
    inbound = Inbound(
        platform=PLATFORM,
        agent_id=agent_id,
        audience=audience,
        thread=thread,
        author=Author(id=str(author.id), name=author.display_name) if author else Author("", ""),
        text="",
        event_id=f"{message_id}:delete",
        message_ref=message_id,
        sent_at=discord.utils.utcnow(),
        kind=InboundKind.DELETE,
    )
    return Arrival(inbound, bot_user=bot_user, from_bot=author is not None and author.bot)


def _arrival(
    message: discord.Message,
    me: discord.abc.User,
    agent_id: str,
    event_id: str,
    sent_at: datetime,
    kind: InboundKind,
) -> Arrival:
    audience, thread = conversation_of(message.channel, message.author.id)
    inbound = Inbound(
        platform=PLATFORM,
        agent_id=agent_id,
        audience=audience,
        thread=thread,
        author=Author(id=str(message.author.id), name=message.author.display_name),
        text=_readable_text(message, me),
        event_id=event_id,
        message_ref=str(message.id),
        sent_at=sent_at,
        kind=kind,
        mentions=tuple(str(user.id) for user in message.mentions),
        attachments=tuple(attachment.url for attachment in message.attachments),
        channel_name=_channel_name(message.channel),
    )
    return Arrival(
        inbound,
        bot_user=str(me.id),
        from_bot=message.author.bot,
        addressed=_addresses(message, me),
        places=_places(message),
    )


def _addresses(message: discord.Message, me: discord.abc.User) -> bool:
    """A mention of the bot (user or its managed role), or a reply to one of its messages.

    ``@everyone`` does not count: a busy server would otherwise wake the agent for every
    announcement.
    """
    if any(user.id == me.id for user in message.mentions):
        return True
    own_role = message.guild.self_role if message.guild is not None else None
    if own_role is not None and own_role.id in message.raw_role_mentions:
        return True
    resolved = message.reference.resolved if message.reference else None
    return isinstance(resolved, discord.Message) and resolved.author.id == me.id


def _places(message: discord.Message) -> tuple[str, ...]:
    """Where a channel policy for ``message`` may be set: its thread, then the parent."""
    channel = message.channel
    if isinstance(channel, discord.Thread):
        return str(channel.id), str(channel.parent_id)
    return (str(channel.id),)


def _channel_name(channel: object) -> str:
    """How people name the place: "#general", "#general / plans" for a thread, "" for a DM."""
    if isinstance(channel, discord.Thread):
        parent = channel.parent
        return f"#{parent.name} / {channel.name}" if parent is not None else f"#{channel.name}"
    if isinstance(channel, discord.abc.GuildChannel):
        return f"#{channel.name}"
    return ""


def _readable_text(message: discord.Message, me: discord.abc.User) -> str:
    """The content with the bot's own mention dropped and other users' mentions as @names."""
    names = {user.id: user.display_name for user in message.mentions}

    def rewrite(match: re.Match[str]) -> str:
        user_id = int(match.group(1))
        if user_id == me.id:
            return ""
        name = names.get(user_id)
        return f"@{name}{match.group(2)}" if name is not None else match.group(0)

    return _USER_MENTION.sub(rewrite, message.content).strip()
