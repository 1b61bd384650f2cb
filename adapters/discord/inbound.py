"""Discord message -> ``Inbound``: what is for the agent, who hears it, whether to answer."""

from __future__ import annotations

import re

import discord

from adapters.discord.audience import PLATFORM, conversation_of
from adapters.discord.config import DiscordConfig
from adapters.policy import ChannelPolicy
from engine.records import Author, Inbound, InboundKind

#: A user mention and the one space after it, dropped with the bot's own mention.
_USER_MENTION = re.compile(r"<@!?(\d+)>( ?)")
#: Regular messages and replies; joins, pins, boosts and the like are not conversation.
_CONVERSATION_TYPES = frozenset({discord.MessageType.default, discord.MessageType.reply})


def inbound_from_message(
    message: discord.Message, me: discord.abc.User, config: DiscordConfig
) -> Inbound | None:
    """The ``Inbound`` for ``message``, or None when the agent should not even remember it.

    Raises ``UnmappableChannel`` when the message's audience cannot be determined.
    """
    if not _may_be_heard(message, me, config):
        return None
    audience, thread = conversation_of(message.channel, message.author.id)
    addressed = isinstance(message.channel, discord.DMChannel) or _addresses(message, me)
    if addressed:
        respond = True
    else:
        policy = config.policy_for(str(message.channel.id), _parent_id(message.channel))
        if policy is ChannelPolicy.MENTION:
            return None
        respond = policy is ChannelPolicy.OPEN
    text = _readable_text(message, me)
    attachments = tuple(attachment.url for attachment in message.attachments)
    if not text and not attachments:
        return None
    message_id = str(message.id)
    return Inbound(
        platform=PLATFORM,
        agent_id=config.agent_id,
        audience=audience,
        thread=thread,
        author=Author(id=str(message.author.id), name=message.author.display_name),
        text=text,
        event_id=message_id,
        message_ref=message_id,
        sent_at=message.created_at,
        respond=respond,
        mentions=tuple(str(user.id) for user in message.mentions),
        attachments=attachments,
        channel_name=_channel_name(message.channel),
    )


def edit_from_message(
    message: discord.Message, me: discord.abc.User, config: DiscordConfig
) -> Inbound | None:
    """The ``Inbound`` that replaces a stored message's text after an edit (MESSAGE_UPDATE),
    or None when the update is not an edit of something the agent may have heard.

    Discord also sends updates for embeds unfolding; only those with ``edited_timestamp`` are
    edits. Raises ``UnmappableChannel`` like ``inbound_from_message``.
    """
    if message.edited_at is None or not _may_be_heard(message, me, config):
        return None
    audience, thread = conversation_of(message.channel, message.author.id)
    message_id = str(message.id)
    return Inbound(
        platform=PLATFORM,
        agent_id=config.agent_id,
        audience=audience,
        thread=thread,
        author=Author(id=str(message.author.id), name=message.author.display_name),
        text=_readable_text(message, me),
        # One event per edit: a message edited twice is two changes.
        event_id=f"{message_id}:edit:{message.edited_at.isoformat()}",
        message_ref=message_id,
        sent_at=message.edited_at,
        kind=InboundKind.EDIT,
        respond=False,
    )


def deletion_from_event(
    event: discord.RawMessageDeleteEvent, channel: object, config: DiscordConfig
) -> Inbound | None:
    """The ``Inbound`` that removes a deleted message from recall (MESSAGE_DELETE), or None
    when nothing says where it was: an uncached channel, or a DM whose partner is unknown.

    Raises ``UnmappableChannel`` like ``inbound_from_message``.
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
    return Inbound(
        platform=PLATFORM,
        agent_id=config.agent_id,
        audience=audience,
        thread=thread,
        author=Author(id=str(author.id), name=author.display_name) if author else Author("", ""),
        text="",
        event_id=f"{message_id}:delete",
        message_ref=message_id,
        sent_at=discord.utils.utcnow(),
        kind=InboundKind.DELETE,
        respond=False,
    )


def _may_be_heard(message: discord.Message, me: discord.abc.User, config: DiscordConfig) -> bool:
    """Whether the agent can have heard ``message``: not its own, not an unknown bot's, and
    conversation rather than a join, pin or boost notice."""
    if message.author.id == me.id:
        return False
    if message.author.bot and str(message.author.id) not in config.peer_agents:
        return False
    return message.type in _CONVERSATION_TYPES


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


def _parent_id(channel: object) -> str | None:
    if isinstance(channel, discord.Thread):
        return str(channel.parent_id)
    return None


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
