"""The Slack wire payloads the adapter reads, as ``TypedDict``s in one place.

Only the fields Mnemo uses are listed; Slack sends many more.
"""

from __future__ import annotations

from typing import NotRequired, TypedDict


class SlackFile(TypedDict, total=False):
    id: str
    name: str
    title: str
    mimetype: str
    permalink: str


class SlackMessagePayload(TypedDict, total=False):
    """A message as Slack nests it inside edit and delete events."""

    type: str
    subtype: str
    user: str
    bot_id: str
    text: str
    ts: str
    thread_ts: str
    files: list[SlackFile]


class SlackEvent(SlackMessagePayload, total=False):
    """The ``event`` of an Events API callback (``message`` and ``app_mention``): a message,
    with where it was posted and, for edits and deletions, the message before and after."""

    channel: str
    channel_type: str
    message: SlackMessagePayload
    previous_message: SlackMessagePayload
    deleted_ts: str


class EventCallback(TypedDict):
    """The body Slack posts to ``/slack/events`` (and wraps in Socket Mode envelopes)."""

    type: str
    team_id: str
    event_id: str
    event_time: NotRequired[int]
    event: SlackEvent
    enterprise_id: NotRequired[str]
