"""Slack event payloads -> ``engine.Inbound``: pure functions, no network.

``parse_event`` reads what a payload says (or decides it is not for us); ``build_inbound``
adds what the adapter looked up (who wrote it, how private the channel is) and applies the
channel's policy.
"""

from __future__ import annotations

import html
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from adapters.policy import ChannelPolicy
from adapters.slack.config import PLATFORM
from adapters.slack.payloads import EventCallback, SlackEvent, SlackFile, SlackMessagePayload
from engine.audience import Audience, AudienceKind
from engine.records import Author, Inbound, InboundKind

_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
#: Message subtypes that carry something a person said; every other subtype (joins, topic
#: changes, bot messages ...) is not for the agent.
_SPOKEN_SUBTYPES = frozenset({"", "file_share", "thread_broadcast", "me_message"})


class MalformedEvent(ValueError):
    """A payload that lacks what every Slack message event has."""


@dataclass(frozen=True, slots=True)
class SlackMessage:
    """What one message event says, before the adapter's look-ups."""

    team: str
    channel: str
    #: "im", "mpim", "group", "channel", or "" when the event does not say (app_mention).
    channel_type: str
    user: str
    text: str
    ts: str
    thread_ts: str
    event_id: str
    kind: InboundKind
    mentions_bot: bool
    mentions: tuple[str, ...]
    files: tuple[str, ...]

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


def parse_event(
    body: Mapping[str, Any], bot_user_id: str, peer_bots: Collection[str] = ()
) -> SlackMessage | None:
    """Read a ``message`` or ``app_mention`` callback; None when it is not for the agent
    (our own or another bot's message, a join, an unfurl ...). Messages of ``peer_bots``, the
    bot users of this deployment's other agents, are kept."""
    callback = cast(EventCallback, body)
    event = callback.get("event")
    if not isinstance(event, dict):
        raise MalformedEvent("the callback has no event")
    team = callback.get("team_id") or callback.get("enterprise_id") or ""
    event_id = callback.get("event_id", "")
    channel = event.get("channel", "")
    if not (team and event_id and channel):
        raise MalformedEvent("the event lacks its team, event id or channel")
    if event.get("type") == "app_mention":
        return _spoken(event, event, team, event_id, bot_user_id, InboundKind.MESSAGE, peer_bots)
    subtype = event.get("subtype", "")
    if subtype == "message_changed":
        return _edited(event, team, event_id, bot_user_id)
    if subtype == "message_deleted":
        return _deleted(event, team, event_id, bot_user_id)
    if subtype not in _SPOKEN_SUBTYPES and not (
        subtype == "bot_message" and event.get("user") in peer_bots
    ):
        return None
    return _spoken(event, event, team, event_id, bot_user_id, InboundKind.MESSAGE, peer_bots)


def build_inbound(
    message: SlackMessage,
    *,
    agent_id: str,
    policy: ChannelPolicy,
    audience_kind: AudienceKind,
    author_name: str,
    channel_name: str = "",
) -> Inbound | None:
    """The ``Inbound`` for the engine, or None when the channel's policy ignores it.

    In a DM, top-level messages are one conversation (``thread`` ""); everywhere else a thread
    is its own conversation, and a top-level message starts one (``thread`` = its ts), which
    is where the reply goes.
    """
    workspace = workspace_id(message.team)
    is_dm = audience_kind is AudienceKind.DM
    if is_dm and not message.user:
        # A deletion Slack sent without the deleted message: nothing says whose DM it was.
        return None
    audience = Audience(
        workspace=workspace,
        kind=audience_kind,
        channel=message.channel,
        user=message.user if is_dm else None,
    )
    is_message = message.kind is InboundKind.MESSAGE
    if not is_dm and is_message and policy is ChannelPolicy.MENTION and not message.mentions_bot:
        return None
    respond = is_message and (is_dm or message.mentions_bot or policy is ChannelPolicy.OPEN)
    return Inbound(
        platform=PLATFORM,
        agent_id=agent_id,
        audience=audience,
        thread=message.thread_ts if is_dm else (message.thread_ts or message.ts),
        author=Author(id=message.user, name=author_name),
        text=message.text,
        event_id=message.event_id,
        message_ref=message.ts,
        sent_at=message.sent_at,
        kind=message.kind,
        respond=respond,
        mentions=message.mentions,
        attachments=message.files,
        channel_name=channel_name,
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


def _is_from_bot(message: SlackEvent | SlackMessagePayload, bot_user_id: str) -> bool:
    return (
        bool(message.get("bot_id"))
        or message.get("subtype") == "bot_message"
        or (message.get("user") == bot_user_id)
    )


def _spoken(
    event: SlackEvent,
    message: SlackEvent | SlackMessagePayload,
    team: str,
    event_id: str,
    bot_user_id: str,
    kind: InboundKind,
    peer_bots: Collection[str] = (),
) -> SlackMessage | None:
    user = message.get("user", "")
    ts = message.get("ts", "")
    if not (user and ts):
        raise MalformedEvent("the message lacks its user or ts")
    if _is_from_bot(message, bot_user_id) and (user == bot_user_id or user not in peer_bots):
        return None
    raw_text = message.get("text", "")
    mentions = tuple(dict.fromkeys(_MENTION.findall(raw_text)))
    return SlackMessage(
        team=team,
        channel=event.get("channel", ""),
        channel_type=event.get("channel_type", ""),
        user=user,
        text=_plain_text(raw_text, bot_user_id),
        ts=ts,
        thread_ts=message.get("thread_ts", ""),
        event_id=event_id,
        kind=kind,
        mentions_bot=bool(bot_user_id) and bot_user_id in mentions,
        mentions=mentions,
        files=tuple(_describe_file(f) for f in message.get("files", [])),
    )


def _edited(event: SlackEvent, team: str, event_id: str, bot_user_id: str) -> SlackMessage | None:
    new = event.get("message")
    if new is None:
        raise MalformedEvent("a message_changed event lacks the message")
    before = event.get("previous_message", {})
    # Slack also sends message_changed for unfurls and new thread replies: text unchanged.
    if "text" in before and before.get("text") == new.get("text"):
        return None
    return _spoken(event, new, team, event_id, bot_user_id, InboundKind.EDIT)


def _deleted(event: SlackEvent, team: str, event_id: str, bot_user_id: str) -> SlackMessage | None:
    ts = event.get("deleted_ts", "")
    if not ts:
        raise MalformedEvent("a message_deleted event lacks deleted_ts")
    before = event.get("previous_message", {})
    if _is_from_bot(before, bot_user_id):
        return None
    return SlackMessage(
        team=team,
        channel=event.get("channel", ""),
        channel_type=event.get("channel_type", ""),
        user=before.get("user", ""),
        text="",
        ts=ts,
        thread_ts=before.get("thread_ts", ""),
        event_id=event_id,
        kind=InboundKind.DELETE,
        mentions_bot=False,
        mentions=(),
        files=(),
    )


def _plain_text(text: str, bot_user_id: str) -> str:
    """Slack's escaped mrkdwn as people typed it, without the mention that addressed us."""
    if bot_user_id:
        text = re.sub(rf"<@{re.escape(bot_user_id)}(?:\|[^>]*)?>", "", text)
    return html.unescape(text).strip()


def _describe_file(file: SlackFile) -> str:
    name = file.get("name") or file.get("title") or file.get("id", "file")
    link = file.get("permalink", "")
    return f"{name} ({link})" if link else name
