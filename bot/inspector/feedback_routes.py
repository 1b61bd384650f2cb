"""People's ratings of the agents' replies (the feedback buttons), newest first: what the
``mnemo_replies_rated`` metric counts, each with the turn and channel of the reply rated."""

from __future__ import annotations

from collections import Counter

from aiohttp import web
from pydantic import BaseModel, Field

from bot.inspector.api import Endpoint, query_of, reply, services_of
from engine import Feedback, Rating


class FeedbackQuery(BaseModel):
    workspace: str = Field(default="", description="Only this workspace's; empty for all.")
    limit: int = Field(default=50, ge=1, le=500)


async def list_feedback(request: web.Request) -> web.Response:
    query = query_of(request, FeedbackQuery)
    rated = await services_of(request).stores.feedback.recent(query.limit, query.workspace or None)
    counts = Counter(f.rating for f in rated)
    return reply(
        {
            "feedback": [_shown(f) for f in rated],
            "counts": {rating.value: counts[rating] for rating in Rating},
        }
    )


def _shown(feedback: Feedback) -> dict[str, str]:
    return {
        "reply_id": feedback.reply_id,
        "turn_id": feedback.turn_id,
        "user": feedback.user,
        "rating": feedback.rating.value,
        "agent_id": feedback.agent_id,
        "workspace": feedback.workspace,
        "channel": feedback.channel,
        "at": feedback.at.isoformat(),
    }


ENDPOINTS = (
    Endpoint(
        "GET",
        "/feedback",
        list_feedback,
        "Ratings people gave the agents' replies, newest first, with their counts",
        "feedback",
        FeedbackQuery,
    ),
)
