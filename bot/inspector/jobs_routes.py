"""Background job runs, newest first (consolidation, summaries, retention ...)."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, Field

from bot.inspector.api import Endpoint, query_of, reply, services_of
from bot.inspector.views import run_view


class RunsQuery(BaseModel):
    job: str = Field(default="", description="Only this job's runs; empty for all.")
    limit: int = Field(default=50, ge=1, le=500)


async def list_runs(request: web.Request) -> web.Response:
    query = query_of(request, RunsQuery)
    services = services_of(request)
    runs = await services.jobs.history.runs(query.job or None, query.limit)
    return reply({"jobs": list(services.jobs.names), "runs": [run_view(r) for r in runs]})


ENDPOINTS = (
    Endpoint("GET", "/jobs/runs", list_runs, "Recorded background job runs", "jobs", RunsQuery),
)
