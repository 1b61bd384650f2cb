"""Platform events the adapters could not read, with why, newest first: what the
``mnemo_events_rejected`` metric counts, for the operator to look at."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, Field

from bot.inspector.api import Endpoint, query_of, reply, services_of


class RejectedQuery(BaseModel):
    platform: str = Field(
        default="", description="Of the newest `limit`, only this platform's; empty for all."
    )
    limit: int = Field(default=50, ge=1, le=500)


async def list_rejected(request: web.Request) -> web.Response:
    query = query_of(request, RejectedQuery)
    events = await services_of(request).rejected_events.rejected(query.limit)
    if query.platform:
        events = [e for e in events if e.get("platform") == query.platform]
    return reply({"rejected": events})


ENDPOINTS = (
    Endpoint(
        "GET",
        "/events/rejected",
        list_rejected,
        "Platform events that could not be read, with the reason",
        "events",
        RejectedQuery,
    ),
)
