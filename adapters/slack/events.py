"""Slack event payloads -> intake arrivals: pure functions, no network.

``parse_event`` reads what a payload says (None when it holds no message someone wrote or
changed: joins, topic changes, unfurls); ``arrival_of`` adds what the adapter looked up (who
wrote it, how private the channel is). Whether the agent hears it is the intake chain's call.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from adapters.intake import Arrival
from adapters.slack.config import PLATFORM
from adapters.slack.payloads import EventCallback, SlackEvent, SlackFile, SlackMessagePayload
from engine import Audience, AudienceKind, Author, Inbound, InboundKind

_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
#: Message subtypes that carry something someone said; every other subtype (joins, topic
#: changes ...) is a notice, not conversation.
_SPOKEN_SUBTYPES = frozenset({"", "file_share", "thread_broadcast", "me_message", "bot_message"})


class MalformedEvent(ValueError):
    """A payload that lacks what every Slack message event has."""


@dataclass(frozen=True, slots=True)
class SlackEnvelope:
    """What every message event of a callback says about where it happened."""

    team: str
    channel: str
    #: "im", "mpim", "group", "channel", or "" when the event does not say (app_mention).
    channel_type: str
    event_id: str
    #: The bot user the event was read for (mentions of it are dropped from the text).
    bot_user: str


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
    text: str = ""
    mentions_bot: bool = False
    mentions: tuple[str, ...] = ()
    files: tuple[str, ...] = ()

    @property
    def sent_at(self) -> datetime:
        return datetime.fromtimestamp(float(self.ts), UTC)


def workspace_id(team: str) -> str:
    """Mnemo's workspace id of a Slack team, distinct from every Discord guild id."""
    return f"{PLATFORM}:{team}"


def team_of(workspace: str) -> str:
    """The Slack team id of a Mnemo workspace id."""
    prefix = f"{PLATFORM}:"
    if not workspace.startswith(prefix):
        raise ValueError(f"{workspace!r} is not a Slack workspace id")
    return workspace.removeprefix(prefix)


def parse_event(body: Mapping[str, Any], bot_user_id: str) -> SlackMessage | None:
    """Read a ``message`` or ``app_mention`` callback; None when it holds no message someone
    wrote, edited or deleted (a join, a topic change, an unfurl)."""
    callback = cast(EventCallback, body)
    event = callback.get("event")
    if not isinstance(event, dict):
        raise MalformedEvent("the callback has no event")
    team = callback.get("team_id") or callback.get("enterprise_id") or ""
    event_id = callback.get("event_id", "")
    channel = event.get("channel", "")
    if not (team and event_id and channel):
        raise MalformedEvent("the event lacks its team, event id or channel")
    envelope = SlackEnvelope(team, channel, event.get("channel_type", ""), event_id, bot_user_id)
    if event.get("type") != "app_mention":
        subtype = event.get("subtype", "")
        if subtype == "message_changed":
            return _edited(envelope, event)
        if subtype == "message_deleted":
            return _deleted(envelope, event)
        if subtype not in _SPOKEN_SUBTYPES:
            return None
    return _spoken(envelope, event, InboundKind.MESSAGE)


def arrival_of(
    message: SlackMessage,
    *,
    agent_id: str,
    audience_kind: AudienceKind,
    author_name: str,
    channel_name: str = "",
) -> Arrival | None:
    """The message for the intake chain, or None when nothing says whose DM it was.

    In a DM, top-level messages are one conversation (``thread`` ""); everywhere else a thread
    is its own conversation, and a top-level message starts one (``thread`` = its ts), which
    is where the reply goes.
    """
    is_dm = audience_kind is AudienceKind.DM
    if is_dm and not message.user:
        # A deletion Slack sent without the deleted message: nothing says whose DM it was.
        return None
    envelope = message.envelope
    audience = Audience(
        workspace=workspace_id(envelope.team),
        kind=audience_kind,
        channel=envelope.channel,
        user=message.user if is_dm else None,
    )
    inbound = Inbound(
        platform=PLATFORM,
        agent_id=agent_id,
        audience=audience,
        thread=message.thread_ts if is_dm else (message.thread_ts or message.ts),
        author=Author(id=message.user, name=author_name),
        text=message.text,
        event_id=envelope.event_id,
        message_ref=message.ts,
        sent_at=message.sent_at,
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


def _spoken(
    envelope: SlackEnvelope, message: SlackMessagePayload, kind: InboundKind
) -> SlackMessage:
    user, from_bot = _author(message)
    ts = message.get("ts", "")
    if not (user and ts):
        raise MalformedEvent("the message lacks its user or ts")
    raw_text = message.get("text", "")
    mentions = tuple(dict.fromkeys(_MENTION.findall(raw_text)))
    bot_user = envelope.bot_user
    return SlackMessage(
        envelope,
        kind,
        user,
        from_bot,
        ts,
        thread_ts=message.get("thread_ts", ""),
        text=_plain_text(raw_text, bot_user),
        mentions_bot=bool(bot_user) and bot_user in mentions,
        mentions=mentions,
        files=tuple(_describe_file(f) for f in message.get("files", [])),
    )


def _edited(envelope: SlackEnvelope, event: SlackEvent) -> SlackMessage | None:
    new = event.get("message")
    if new is None:
        raise MalformedEvent("a message_changed event lacks the message")
    before = event.get("previous_message", {})
    # Slack also sends message_changed for unfurls and new thread replies: text unchanged.
    if "text" in before and before.get("text") == new.get("text"):
        return None
    return _spoken(envelope, new, InboundKind.EDIT)


def _deleted(envelope: SlackEnvelope, event: SlackEvent) -> SlackMessage:
    ts = event.get("deleted_ts", "")
    if not ts:
        raise MalformedEvent("a message_deleted event lacks deleted_ts")
    before = event.get("previous_message", {})
    user, from_bot = _author(before)
    thread_ts = before.get("thread_ts", "")
    return SlackMessage(envelope, InboundKind.DELETE, user, from_bot, ts, thread_ts)


def _plain_text(text: str, bot_user_id: str) -> str:
    """Slack's escaped mrkdwn as people typed it, without the mention that addressed us."""
    if bot_user_id:
        text = re.sub(rf"<@{re.escape(bot_user_id)}(?:\|[^>]*)?>", "", text)
    return html.unescape(text).strip()


def _describe_file(file: SlackFile) -> str:
    name = file.get("name") or file.get("title") or file.get("id", "file")
    link = file.get("permalink", "")
    return f"{name} ({link})" if link else name
