"""Slack event payloads -> intake arrivals: pure functions, no network.

``parse_event`` reads what a payload says (None when it holds no message someone wrote or
changed: joins, topic changes, unfurls); ``arrival_of`` adds what the adapter looked up (who
wrote it, how private the channel is). Whether the agent hears it is the intake chain's call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from adapters.intake import Arrival
from adapters.slack.config import PLATFORM
from adapters.slack.content import describe_file, mentions_in, plain_text, text_of
from adapters.slack.payloads import MalformedEvent, SlackEvent, SlackMessagePayload, read_callback
from adapters.slack.routing import Receiver, receiver_of
from adapters.slack.timestamps import sent_at_of
from engine import Audience, AudienceKind, Author, Inbound, InboundKind, utcnow

__all__ = [
    "MalformedEvent",
    "SlackEnvelope",
    "SlackMessage",
    "arrival_of",
    "audience_kind_of",
    "from_another_org",
    "parse_event",
    "team_of",
    "workspace_id",
]

#: Message subtypes that carry something someone said; every other subtype (joins, topic
#: changes ...) is a notice, not conversation.
_SPOKEN_SUBTYPES = frozenset({"", "file_share", "thread_broadcast", "me_message", "bot_message"})

#: The fields where a message names a workspace it came from.
_TEAM_FIELDS = ("user_team", "source_team", "team")


@dataclass(frozen=True, slots=True)
class SlackEnvelope:
    """What every message event of a callback says about where it happened."""

    #: The installation that received the event; its ``team`` keys the memory.
    receiver: Receiver
    channel: str
    #: "im", "mpim", "group", "channel", or "" when the event does not say (app_mention).
    channel_type: str
    event_id: str
    #: The bot user the event was read for (mentions of it are dropped from the text).
    bot_user: str
    #: The channel is shared with another organisation (Slack Connect).
    shared: bool = False

    @property
    def team(self) -> str:
        return self.receiver.team


@dataclass(frozen=True, slots=True)
class SlackMessage:
    """What one message event says, before the adapter's look-ups."""

    envelope: SlackEnvelope
    kind: InboundKind
    user: str
    #: Posted by a bot account (an integration, or another agent's bot user).
    from_bot: bool
    ts: str
    thread_ts: str
    sent_at: datetime
    text: str = ""
    mentions_bot: bool = False
    mentions: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    #: The payload names another workspace as the author's or the sender's
    #: (``from_another_org``).
    from_other_org: bool = False

    @property
    def from_outside(self) -> bool:
        """Written by someone of another workspace, or in a channel shared with one."""
        return self.envelope.shared or self.from_other_org


def from_another_org(message: SlackMessagePayload, team: str) -> bool:
    """Whether ``message`` names a workspace other than ``team`` as its author's
    (``user_team``), the one it was sent from (``source_team``) or its own (``team``): Slack
    Connect may name the other organisation in any one of them."""
    return any(message.get(key) not in (None, "", team) for key in _TEAM_FIELDS)


def workspace_id(team: str) -> str:
    """Mnemo's workspace id of a Slack team, distinct from every Discord guild id."""
    return f"{PLATFORM}:{team}"


def team_of(workspace: str) -> str:
    """The Slack team id of a Mnemo workspace id."""
    prefix = f"{PLATFORM}:"
    if not workspace.startswith(prefix):
        raise ValueError(f"{workspace!r} is not a Slack workspace id")
    return workspace.removeprefix(prefix)


def parse_event(
    body: Mapping[str, Any], bot_user_id: str, received_at: datetime | None = None
) -> SlackMessage | None:
    """Read a ``message`` or ``app_mention`` callback; None when it holds no message someone
    wrote, edited or deleted (a join, a topic change, an unfurl). ``MalformedEvent`` when the
    body does not fit Slack's shape."""
    callback = read_callback(body)
    event = callback["event"]
    channel = event.get("channel", "")
    if not channel:
        raise MalformedEvent("the event lacks its channel")
    envelope = SlackEnvelope(
        receiver_of(callback),
        channel,
        event.get("channel_type", ""),
        callback["event_id"],
        bot_user_id,
        shared=bool(callback.get("is_ext_shared_channel")),
    )
    read = _Reader(envelope, received_at or utcnow())
    if event.get("type") != "app_mention":
        subtype = event.get("subtype", "")
        if subtype == "message_changed":
            return read.edited(event)
        if subtype == "message_deleted":
            return read.deleted(event.get("deleted_ts", ""), event.get("previous_message", {}))
        if subtype not in _SPOKEN_SUBTYPES:
            return None
    return read.spoken(event, InboundKind.MESSAGE)


def arrival_of(
    message: SlackMessage,
    *,
    agent_id: str,
    audience_kind: AudienceKind,
    author_name: str,
    channel_name: str = "",
    shared_channel: bool = False,
) -> Arrival | None:
    """The message for the intake chain, or None when nothing says whose DM it was.

    A message from another organisation, or in a channel shared with one (``shared_channel``,
    Slack Connect), is never a public audience: what it says, and the files it shares, are
    learned for its channel only, and the reply draws on nothing else the workspace keeps
    (docs/slack.md).

    In a DM, top-level messages are one conversation (``thread`` ""); everywhere else a thread
    is its own conversation, and a top-level message starts one (``thread`` = its ts), which
    is where the reply goes.
    """
    is_dm = audience_kind is AudienceKind.DM
    if is_dm and not message.user:
        # A deletion Slack sent without the deleted message: nothing says whose DM it was.
        return None
    envelope = message.envelope
    outside = shared_channel or message.from_outside
    if audience_kind is AudienceKind.PUBLIC and outside:
        # Slack Connect: people of another organisation read what is said here, and what
        # they say is theirs to share; neither reaches the rest of the workspace.
        audience_kind = AudienceKind.PRIVATE
    dm_user = message.user if is_dm else None
    audience = Audience(
        workspace_id(envelope.team), audience_kind, envelope.channel, dm_user, outside=outside
    )
    inbound = Inbound(
        PLATFORM,
        agent_id,
        audience,
        message.thread_ts if is_dm else (message.thread_ts or message.ts),
        Author(id=message.user, name=author_name),
        message.text,
        envelope.event_id,
        message.ts,
        message.sent_at,
        kind=message.kind,
        mentions=message.mentions,
        attachments=message.files,
        channel_name=channel_name,
    )
    return Arrival(
        inbound,
        bot_user=envelope.bot_user,
        from_bot=message.from_bot,
        addressed=message.mentions_bot,
        places=(envelope.channel,),
    )


def audience_kind_of(channel_type: str) -> AudienceKind | None:
    """The audience an event's ``channel_type`` implies; None when it does not say."""
    match channel_type:
        case "im":
            return AudienceKind.DM
        case "mpim" | "group":
            return AudienceKind.PRIVATE
        case "channel":
            return AudienceKind.PUBLIC
        case _:
            return None


def _author(message: SlackMessagePayload) -> tuple[str, bool]:
    """Who posted ``message``, and whether a bot account did (an integration's message may
    name only its bot id)."""
    from_bot = bool(message.get("bot_id")) or message.get("subtype") == "bot_message"
    return message.get("user", "") or (message.get("bot_id", "") if from_bot else ""), from_bot


@dataclass(frozen=True, slots=True)
class _Reader:
    """Reads the messages of one callback received at ``received_at``."""

    envelope: SlackEnvelope
    received_at: datetime

    def spoken(self, message: SlackMessagePayload, kind: InboundKind) -> SlackMessage:
        user, from_bot = _author(message)
        ts = message.get("ts", "")
        if not (user and ts):
            raise MalformedEvent("the message lacks its user or ts")
        raw_text = text_of(message)
        mentions = mentions_in(raw_text)
        bot_user = self.envelope.bot_user
        return SlackMessage(
            self.envelope,
            kind,
            user,
            from_bot,
            ts,
            message.get("thread_ts", ""),
            sent_at_of(ts, self.received_at),
            text=plain_text(raw_text, bot_user),
            mentions_bot=bool(bot_user) and bot_user in mentions,
            mentions=mentions,
            files=tuple(describe_file(f) for f in message.get("files", [])),
            from_other_org=from_another_org(message, self.envelope.team),
        )

    def edited(self, event: SlackEvent) -> SlackMessage | None:
        new = event.get("message")
        if new is None:
            raise MalformedEvent("a message_changed event lacks the message")
        before = event.get("previous_message", {})
        if new.get("subtype") == "tombstone":
            # A deleted message that had thread replies stays as a "This message was
            # deleted." placeholder: for memory it is gone.
            return self.deleted(new.get("ts", ""), before or new)
        # Slack also sends message_changed for unfurls and new thread replies: text unchanged.
        if before and text_of(before) == text_of(new):
            return None
        return self.spoken(new, InboundKind.EDIT)

    def deleted(self, ts: str, before: SlackMessagePayload) -> SlackMessage:
        if not ts:
            raise MalformedEvent("a deletion lacks the ts of the deleted message")
        user, from_bot = _author(before)
        return SlackMessage(
            self.envelope,
            InboundKind.DELETE,
            user,
            from_bot,
            ts,
            before.get("thread_ts", ""),
            sent_at_of(ts, self.received_at),
        )
