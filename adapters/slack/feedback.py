"""Thumbs up / down under the agent's replies (Slack's ``feedback_buttons``), kept with the turn.

Each button carries its rating, the turn and the reply (``good:<turn>:<reply>``), so a press is
recorded without any state in the adapter. A press on a reply no longer kept (forgotten since)
or with a value Mnemo did not write, or pressed outside the reply's conversation (its value
copied into another channel, or another person's DM), gets a private answer and records
nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncRespond

from adapters.slack.answers import answer_privately, pressed_in, read_press, team_of_action
from engine import JSON, FeedbackPort, Outbound, Rating

log = logging.getLogger(__name__)

FEEDBACK = "mnemo_feedback"
GONE = (
    "I can't find that reply here (it may have been forgotten), so your feedback was not "
    "recorded; if I only just sent it, try again in a moment."
)
UNREADABLE = "I could not read that feedback; nothing was recorded."
#: Slack's limit on a section block's text.
SECTION_TEXT_LIMIT = 3_000


def feedback_block(reply: Outbound) -> dict[str, Any]:
    """The row of feedback buttons shown under ``reply``."""

    def button(rating: Rating, text: str, label: str) -> dict[str, Any]:
        return {
            "text": {"type": "plain_text", "text": text},
            "value": f"{rating.value}:{reply.inbox_id}:{reply.id}",
            "accessibility_label": label,
        }

    return {
        "type": "context_actions",
        "elements": [
            {
                "type": "feedback_buttons",
                "action_id": FEEDBACK,
                "positive_button": button(Rating.GOOD, "Good reply", "This reply helped"),
                "negative_button": button(Rating.BAD, "Bad reply", "This reply did not help"),
            }
        ],
    }


def with_feedback(reply: Outbound, text: str) -> list[dict[str, Any]] | None:
    """The blocks of a reply's last part: its text, then the feedback buttons; None when the
    text is longer than a section may hold (the part is then posted as plain text)."""
    if len(text) > SECTION_TEXT_LIMIT:
        return None
    return [{"type": "section", "text": {"type": "mrkdwn", "text": text}}, feedback_block(reply)]


def read_value(value: str) -> tuple[Rating, str, str] | None:
    """The rating, turn and reply a button's value names; None for any other value."""
    rating, _, ids = value.partition(":")
    turn, _, reply = ids.partition(":")
    if rating not in Rating.__members__.values() or not turn or not reply or ":" in reply:
        return None
    return Rating(rating), turn, reply


class FeedbackButtons:
    """Records presses of the feedback buttons through the engine's ``FeedbackPort``."""

    def __init__(
        self,
        ratings: FeedbackPort,
        agent_id: str,
        reject: Callable[[JSON, str], Awaitable[None]],
    ) -> None:
        self._ratings = ratings
        #: The agent this app speaks as: only its replies are rated here.
        self._agent_id = agent_id
        self._reject = reject

    async def pressed(self, body: dict[str, Any], respond: AsyncRespond) -> None:
        press = await read_press(body, respond, self._reject, UNREADABLE)
        if press is None:
            return
        team = team_of_action(press)
        value = read_value(press["actions"][0].get("value", ""))
        if not team or value is None:
            await answer_privately(respond, body, UNREADABLE)
            return
        rating, turn, reply = value
        user = press["user"]["id"]
        where = pressed_in(body, team, self._agent_id)
        kept = await self._ratings.rate(where, user, turn, reply, rating)
        if kept is None:
            log.info("feedback from %s on reply %s, which is no longer kept", user, reply)
            await answer_privately(respond, body, GONE)
