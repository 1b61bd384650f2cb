"""Agents and their memory: core blocks, recall and archival, each read through the audience
of the chosen conversation, so the page shows exactly what that audience may see."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta

from aiohttp import web
from pydantic import BaseModel, Field

from bot.inspector.api import Endpoint, agent_of, body_of, fail, query_of, reply, services_of
from bot.inspector.conversation import ConversationQuery
from bot.inspector.views import (
    agent_view,
    block_part_view,
    block_view,
    message_view,
    passage_view,
    scored_view,
)
from engine import JSON, MemoryEditError, RecordFilter, Scored, utcnow


class ConversationsQuery(BaseModel):
    days: int = Field(default=30, ge=1, le=3650, description="How far back to look.")


class SearchQuery(ConversationQuery):
    q: str = Field(default="", description="Search text; empty browses newest first.")
    limit: int = Field(default=20, ge=1, le=200)


class RecallQuery(SearchQuery):
    before_seq: int | None = Field(default=None, description="Browse messages older than this.")
    this_channel: bool = Field(default=False, description="Only this channel's messages.")


class ArchivalQuery(SearchQuery):
    tags: str = Field(default="", description="Comma-separated tags; any of them matches.")
    offset: int = Field(default=0, ge=0)


class PartEdit(ConversationQuery):
    value: str = Field(description="The part's new text.")
    expected_version: int = Field(ge=1, description="The version the edit was based on.")


class OwnPartWrite(ConversationQuery):
    value: str = Field(description="The new text of this conversation's own part.")


async def list_agents(request: web.Request) -> web.Response:
    """Agents by name, and which is the default one (the page opens on it)."""
    services = services_of(request)
    agents = await services.stores.agents.list()
    return reply(
        {
            "agents": [agent_view(a) for a in sorted(agents, key=lambda a: a.name)],
            "default_agent_id": services.default_agent_id,
        }
    )


async def get_agent(request: web.Request) -> web.Response:
    return reply(agent_view(await agent_of(request)))


async def list_conversations(request: web.Request) -> web.Response:
    """Recent conversations, with the audience each one reads through (a picker for the page)."""
    days = query_of(request, ConversationsQuery).days
    activity = await services_of(request).stores.messages.conversations_since(
        utcnow() - timedelta(days=days)
    )
    found: list[JSON] = []
    for entry in sorted(activity, key=lambda a: a.last_at, reverse=True):
        key = entry.conversation
        try:
            audience = entry.scope.audience_of(key)
        except ValueError:
            continue
        found.append(
            {
                "agent_id": key.agent_id,
                "workspace": key.workspace,
                "channel": key.channel,
                "thread": key.thread,
                "kind": audience.kind.value,
                "user": audience.user or "",
                "messages": entry.messages,
                "last_at": entry.last_at.isoformat(),
            }
        )
    return reply({"conversations": found})


async def get_blocks(request: web.Request) -> web.Response:
    agent = await agent_of(request)
    conversation = query_of(request, ConversationQuery)
    views = await conversation.memory(services_of(request).stores.blocks, agent).load()
    audience = conversation.audience
    return reply(
        {
            "write_scope": str(audience.write_scope),
            "readable_scopes": [str(s) for s in audience.readable_scopes],
            "blocks": [block_view(v, audience) for v in views],
        }
    )


async def edit_part(request: web.Request) -> web.Response:
    """Compare-and-set one part of a block this conversation shows: a stale
    ``expected_version`` is a 409 with the current part, so the page can show what changed
    instead of overwriting it. The block's limit holds as it does for the agent's edits."""
    agent = await agent_of(request)
    edit = await body_of(request, PartEdit)
    blocks = services_of(request).stores.blocks
    audience = edit.audience
    part_id = request.match_info["block_id"]
    views = await edit.memory(blocks, agent).load()
    shown = next((v for v in views if any(p.id == part_id for p in v.parts)), None)
    if shown is None:
        fail(404, "no such block part is visible in this conversation")
    others = sum(len(p.value) + 1 for p in shown.parts if p.id != part_id and p.value)
    if others + len(edit.value) > shown.limit:
        fail(422, f"{shown.label} would be {others + len(edit.value)}/{shown.limit} characters")
    updated = await blocks.update(part_id, edit.expected_version, edit.value)
    if updated is None:
        current = await blocks.get(part_id)
        fail(
            409,
            "the part changed since it was read; reload and edit again",
            current=block_part_view(current, audience, shown.subject_name) if current else None,
        )
    return reply(block_part_view(updated, audience, shown.subject_name))


async def write_own_part(request: web.Request) -> web.Response:
    """Write the part of a label stored under this conversation's own scope (creating it),
    as the agent's memory_rethink would."""
    agent = await agent_of(request)
    write = await body_of(request, OwnPartWrite)
    memory = write.memory(services_of(request).stores.blocks, agent)
    try:
        view = await memory.rethink(request.match_info["label"], write.value)
    except MemoryEditError as exc:
        fail(422, str(exc))
    return reply(block_view(view, write.audience))


async def get_recall(request: web.Request) -> web.Response:
    agent = await agent_of(request)
    query = query_of(request, RecallQuery)
    services = services_of(request)
    where = query.where(agent, this_channel=query.this_channel)
    return await _search_or_browse(
        "messages",
        message_view,
        await services.stores.messages.count(where),
        query.q,
        lambda text: services.search.messages(where, text, query.limit),
        lambda: services.stores.messages.list(where, query.limit, query.before_seq),
    )


async def get_archival(request: web.Request) -> web.Response:
    agent = await agent_of(request)
    query = query_of(request, ArchivalQuery)
    passages = services_of(request).stores.passages
    base = query.where(agent)
    tags = tuple(t.strip() for t in query.tags.split(",") if t.strip())
    where = RecordFilter(base.agent_id, base.workspace, base.scopes, tags=tags)
    return await _search_or_browse(
        "passages",
        passage_view,
        await passages.count(where),
        query.q,
        lambda text: services_of(request).search.passages(where, text, query.limit),
        lambda: passages.list(where, query.limit, query.offset),
    )


async def _search_or_browse[T](
    key: str,
    view: Callable[[T], JSON],
    total: int,
    text: str,
    search: Callable[[str], Awaitable[Sequence[Scored[T]]]],
    browse: Callable[[], Awaitable[Sequence[T]]],
) -> web.Response:
    """What a search for ``text`` finds, best first with scores, or the newest records when
    ``text`` is empty; ``total`` counts every record the audience may see."""
    if text:
        return reply({"total": total, key: [scored_view(r, view) for r in await search(text)]})
    return reply({"total": total, key: [view(r) for r in await browse()]})


async def delete_passage(request: web.Request) -> web.Response:
    agent = await agent_of(request)
    audience = query_of(request, ConversationQuery).audience
    passages = services_of(request).stores.passages
    passage = await passages.get(request.match_info["passage_id"])
    if (
        passage is None
        or passage.agent_id != agent.id
        or not audience.can_read(passage.workspace, passage.scope)
    ):
        fail(404, "no such passage is visible in this conversation")
    deleted = await passages.delete([passage.id])
    return reply({"deleted": deleted})


ENDPOINTS = (
    Endpoint("GET", "/agents", list_agents, "List agents", "agents"),
    Endpoint("GET", "/agents/{agent_id}", get_agent, "Get one agent (id or name)", "agents"),
    Endpoint(
        "GET",
        "/conversations",
        list_conversations,
        "Recent conversations and their audiences",
        "agents",
        query=ConversationsQuery,
    ),
    Endpoint(
        "GET",
        "/agents/{agent_id}/blocks",
        get_blocks,
        "Core memory blocks as the conversation's audience sees them, with limits",
        "blocks",
        query=ConversationQuery,
    ),
    Endpoint(
        "PUT",
        "/agents/{agent_id}/blocks/parts/{block_id}",
        edit_part,
        "Edit one visible block part (compare-and-set on its version)",
        "blocks",
        body=PartEdit,
    ),
    Endpoint(
        "PUT",
        "/agents/{agent_id}/blocks/labels/{label}",
        write_own_part,
        "Write the conversation's own part of a block (created when missing)",
        "blocks",
        body=OwnPartWrite,
    ),
    Endpoint(
        "GET",
        "/agents/{agent_id}/recall",
        get_recall,
        "Browse or search recall memory visible to the conversation",
        "recall",
        query=RecallQuery,
    ),
    Endpoint(
        "GET",
        "/agents/{agent_id}/archival",
        get_archival,
        "Browse or search archival memory visible to the conversation",
        "archival",
        query=ArchivalQuery,
    ),
    Endpoint(
        "DELETE",
        "/agents/{agent_id}/archival/{passage_id}",
        delete_passage,
        "Delete a passage visible to the conversation",
        "archival",
        query=ConversationQuery,
    ),
)
