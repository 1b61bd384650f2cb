"""Discord events -> intake arrivals: who wrote it, where, whether it addresses the bot.

Whether the agent hears a message, and answers it, is the intake chain's call.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import discord

from adapters.discord.audience import PLATFORM, UnmappableChannel, conversation_of
from adapters.discord.content import attachment_urls, readable_text
from adapters.intake import Arrival
from engine import Author, Inbound, InboundKind

log = logging.getLogger(__name__)

#: Regular messages and replies; joins, pins, boosts and the like are not conversation.
_CONVERSATION_TYPES = frozenset({discord.MessageType.default, discord.MessageType.reply})
#: How far ahead of the receiving clock a message may be dated before it is re-dated.
_FUTURE_SLACK = timedelta(days=1)
#: Discord's epoch: no message is older than Discord.
DISCORD_EPOCH = datetime(2015, 1, 1, tzinfo=UTC)


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


def deletion_of(
    message_id: int,
    channel: object,
    author: discord.abc.User | None,
    bot_user: str,
    agent_id: str,
) -> Arrival:
    """The arrival that removes a deleted message from recall (MESSAGE_DELETE, and each
    message of a MESSAGE_DELETE_BULK); ``author`` when the client had the message cached.

    Raises ``UnmappableChannel`` when the channel, or the partner of a DM, is unknown.
    """
    if isinstance(channel, discord.DMChannel):
        if channel.recipient is None:
            raise UnmappableChannel(f"DM channel {channel.id} has no known recipient")
        audience, thread = conversation_of(channel, channel.recipient.id)
    else:
        audience, thread = conversation_of(channel, 0)  # the author only matters in DMs
    inbound = Inbound(
        platform=PLATFORM,
        agent_id=agent_id,
        audience=audience,
        thread=thread,
        author=Author(id=str(author.id), name=author.display_name) if author else Author("", ""),
        text="",
        event_id=f"{message_id}:delete",
        message_ref=str(message_id),
        sent_at=discord.utils.utcnow(),
        kind=InboundKind.DELETE,
    )
    return Arrival(inbound, bot_user=bot_user, from_bot=author is not None and author.bot)


def sane_time(sent_at: datetime, what: str) -> datetime:
    """``sent_at``, or the time of receipt when it is more than a day ahead (a wrong clock
    would otherwise sort it after everything said later); times before Discord are kept,
    with a warning."""
    now = discord.utils.utcnow()
    if sent_at > now + _FUTURE_SLACK:
        log.warning("discord %s is dated %s, in the future: dated now", what, sent_at.isoformat())
        return now
    if sent_at < DISCORD_EPOCH:
        log.warning("discord %s is dated %s, before Discord existed", what, sent_at.isoformat())
    return sent_at


def _arrival(
    message: discord.Message,
    me: discord.abc.User,
    agent_id: str,
    event_id: str,
    sent_at: datetime,
    kind: InboundKind,
) -> Arrival:
    audience, thread = conversation_of(message.channel, message.author.id)
    what = f"{kind.value} {message.id}"
    inbound = Inbound(
        platform=PLATFORM,
        agent_id=agent_id,
        audience=audience,
        thread=thread,
        author=Author(id=str(message.author.id), name=message.author.display_name),
        text=readable_text(message, me),
        event_id=event_id,
        message_ref=str(message.id),
        sent_at=sane_time(sent_at, what),
        kind=kind,
        mentions=tuple(str(user.id) for user in message.mentions),
        attachments=attachment_urls(message),
        channel_name=_channel_name(message.channel),
    )
    return Arrival(
        inbound,
        bot_user=str(me.id),
        from_bot=_from_integration(message),
        addressed=_addresses(message, me),
        places=_places(message),
    )


def _from_integration(message: discord.Message) -> bool:
    """Posted by a bot account, a webhook, an application, or in answer to an interaction:
    not a person, so heard only when it is one of this deployment's agents."""
    return (
        message.author.bot
        or message.webhook_id is not None
        or message.application_id is not None
        or message.interaction_metadata is not None
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
