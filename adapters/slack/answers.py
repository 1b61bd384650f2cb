"""Answers to a button press, a shortcut or a command that only the person who made it sees,
posted to the request's ``response_url``; and whose workspace a press came from."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncRespond
from slack_sdk.errors import SlackClientError

from adapters.slack.config import PLATFORM
from adapters.slack.events import workspace_id
from adapters.slack.payloads import BlockAction, ButtonPress, MalformedEvent, read_button_press
from engine import JSON, PressedIn

log = logging.getLogger(__name__)


def answerable(body: dict[str, Any]) -> bool:
    """Whether ``body`` carries a ``response_url`` an answer can be posted to."""
    url = body.get("response_url")
    return (
        isinstance(url, str)
        and len(url) < 2_000
        and url.startswith(("https://", "http://"))
        and url.isascii()
        and url.isprintable()
        and " " not in url
    )


def team_of_action(action: BlockAction) -> str:
    """The workspace a button was pressed in (org-wide installs send no ``team``)."""
    team = action.get("team")
    return (team["id"] if team else "") or action["user"].get("team_id") or ""


def pressed_in(body: dict[str, Any], team: str, agent_id: str) -> PressedIn:
    """Where a button was pressed: its message's channel, in its workspace (a press that
    names no channel matches none)."""
    channel = body.get("channel")
    where = channel.get("id") if isinstance(channel, dict) else None
    return PressedIn(PLATFORM, workspace_id(team), str(where or "?"), agent_id)


async def answer_privately(respond: AsyncRespond, body: dict[str, Any], text: str) -> None:
    """Tell the person who acted ``text``, visible to them alone; skipped when the request
    names nowhere to answer, and only logged when Slack cannot be reached."""
    if not answerable(body):
        return
    try:
        await respond(text=text, response_type="ephemeral", replace_original=False)
    except (SlackClientError, aiohttp.ClientError, OSError, TimeoutError) as error:
        log.info("answering a Slack interaction failed: %r", error)


async def read_press(
    body: dict[str, Any],
    respond: AsyncRespond,
    reject: Callable[[JSON, str], Awaitable[None]],
    unreadable: str,
) -> ButtonPress | None:
    """The button press ``body`` holds; None when it does not fit Slack's shape (it is then
    kept for the operator, and the person who pressed is told ``unreadable``)."""
    try:
        return read_button_press(body)
    except MalformedEvent as error:
        await reject(body, str(error))
        await answer_privately(respond, body, unreadable)
        return None
