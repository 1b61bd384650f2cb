"""Channel histories read into recall: how far each channel's read got, and the totals."""

from __future__ import annotations

from aiohttp import web

from bot.inspector.api import Endpoint, reply, services_of
from engine import JSON, BackfillProgress


def history_view(progress: BackfillProgress) -> JSON:
    return {
        "platform": progress.platform,
        "agent_id": progress.agent_id,
        "workspace": progress.workspace,
        "channel": progress.channel,
        "channel_name": progress.channel_name,
        "state": progress.state,
        "read": progress.read,
        "stored": progress.stored,
        "skipped": progress.skipped,
        "error": progress.error,
        "started_at": progress.started_at.isoformat(),
        "updated_at": progress.updated_at.isoformat(),
    }


async def list_history(request: web.Request) -> web.Response:
    found = await services_of(request).channel_history.all()
    totals: JSON = {
        "channels": len(found),
        "reading": sum(p.state == "reading" for p in found),
        "read": sum(p.read for p in found),
        "stored": sum(p.stored for p in found),
        "skipped": sum(p.skipped for p in found),
    }
    return reply({"totals": totals, "channels": [history_view(p) for p in found]})


ENDPOINTS = (
    Endpoint("GET", "/history", list_history, "Channel histories read into recall", "history"),
)
