"""Where memories came from, seen through the chosen conversation's audience: each block line's
and passage's sources (with links), "why" for some words, and forgetting one line or passage
together with what was derived from it."""

from __future__ import annotations

from aiohttp import web
from pydantic import Field

from bot.inspector.api import Endpoint, agent_of, fail, query_of, reply, services_of
from bot.inspector.conversation import ConversationQuery
from bot.inspector.services import InspectorServices
from bot.inspector.views import fields_view
from engine import JSON, Agent, Derived, MemoryItem, Passage, render_forget


class SourcesQuery(ConversationQuery):
    passages: str = Field(default="", description="Comma-separated passage ids to cite too.")


class WhyQuery(ConversationQuery):
    q: str = Field(min_length=1, description="The words to explain.")


def item_view(item: MemoryItem) -> JSON:
    return {
        **fields_view(item, "kind", "record_id", "key", "label", "text"),
        "sources": [
            fields_view(s, "message_id", "author", "said_at", "channel", "text", "link")
            for s in item.sources
        ],
    }


async def get_sources(request: web.Request) -> web.Response:
    """Every line of the core memory this audience sees, and the passages asked for that it
    may read, each with the sources it may read."""
    agent = await agent_of(request)
    query = query_of(request, SourcesQuery)
    services = services_of(request)
    audience = query.audience
    views = await query.memory(services.stores.blocks, agent).load()
    passages = [
        passage
        for passage_id in {p.strip() for p in query.passages.split(",") if p.strip()}
        if (passage := await services.stores.passages.get(passage_id)) is not None
        and _visible(passage, agent.id, query)
    ]
    items = await services.explainer.cited_memory(
        [part for view in views for part in view.parts], passages, audience
    )
    return reply(
        {
            "lines": [item_view(i) for i in items if i.kind is Derived.BLOCK_LINE],
            "passages": [item_view(i) for i in items if i.kind is Derived.PASSAGE],
        }
    )


async def get_why(request: web.Request) -> web.Response:
    """The agent's memories matching ``q`` that this audience may read, with their sources."""
    agent = await agent_of(request)
    query = query_of(request, WhyQuery)
    found = await services_of(request).explainer.why(query.audience, query.q, [agent])
    return reply({"items": [item_view(i) for i in found]})


async def forget_record(request: web.Request) -> web.Response:
    """Forget one block line or passage this audience sees, and what was derived from it."""
    agent = await agent_of(request)
    query = query_of(request, ConversationQuery)
    services = services_of(request)
    kind, record_id = request.match_info["kind"], request.match_info["record_id"]
    workspace = await _visible_record(services, agent, kind, record_id, query)
    if workspace is None:
        fail(404, f"no {kind} {record_id!r} is visible in this conversation")
    removed = await services.forget_memory(workspace, Derived(kind), record_id)
    return reply({"removed": render_forget(removed), "total": removed.total})


async def _visible_record(
    services: InspectorServices, agent: Agent, kind: str, record_id: str, query: ConversationQuery
) -> str | None:
    """The workspace of the record when this conversation sees it, else None."""
    stores = services.stores
    if kind == Derived.PASSAGE.value:
        passage = await stores.passages.get(record_id)
        return passage.workspace if passage and _visible(passage, agent.id, query) else None
    if kind != Derived.BLOCK_LINE.value:
        return None
    views = await query.memory(stores.blocks, agent).load()
    parts = [part for view in views for part in view.parts]
    lines = await services.explainer.cited_memory(parts, (), query.audience)
    if not any(line.record_id == record_id for line in lines):
        return None
    return query.audience.workspace


def _visible(passage: Passage, agent_id: str, query: ConversationQuery) -> bool:
    return passage.agent_id == agent_id and query.audience.can_read(
        passage.workspace, passage.scope
    )


ENDPOINTS = (
    Endpoint(
        "GET",
        "/agents/{agent_id}/sources",
        get_sources,
        "Each visible block line and the passages asked for, with the messages they came from",
        "lineage",
        query=SourcesQuery,
    ),
    Endpoint(
        "GET",
        "/agents/{agent_id}/why",
        get_why,
        "Memories matching some words, with the messages they came from",
        "lineage",
        query=WhyQuery,
    ),
    Endpoint(
        "DELETE",
        "/agents/{agent_id}/memory/{kind}/{record_id}",
        forget_record,
        "Forget one visible block line or passage, and what was derived from it",
        "lineage",
        query=ConversationQuery,
    ),
)
