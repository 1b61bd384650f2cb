"""The context window (the exact request an agent's next LLM call sends) and the tool tester."""

from __future__ import annotations

import json
import time
from typing import Any

from aiohttp import web
from pydantic import Field

from bot.inspector.api import Endpoint, agent_of, body_of, fail, query_of, reply, services_of
from bot.inspector.conversation import ConversationQuery
from engine import Author, ContextOverflow, Inbound, ToolCall, new_id, utcnow

#: Platform name of messages the inspector's chat playground and tool tester speak on.
INSPECTOR_PLATFORM = "inspector"


class ToolRun(ConversationQuery):
    arguments: dict[str, Any] | str = Field(
        default_factory=dict, description="The call's arguments: an object, or raw JSON text."
    )


async def get_context(request: web.Request) -> web.Response:
    """What the agent would send if this conversation's next turn started now.

    A read: nothing is written. Messages the next turn would first fold into the conversation
    summary are left out of the window, as ``messages_to_fold`` counts.
    """
    agent = await agent_of(request)
    conversation = query_of(request, ConversationQuery)
    services = services_of(request)
    memory = conversation.memory(services.stores.blocks, agent)
    try:
        compiled = await services.turns.preview(agent, memory, conversation.key(agent.id))
    except ContextOverflow as exc:
        fail(409, str(exc))
    return reply(
        {
            "request": {
                "model": agent.model,
                "messages": compiled.messages,
                "tools": compiled.tools,
                "tool_choice": "required",
            },
            "sections": compiled.sections,
            "total": compiled.total,
            "budget": compiled.budget,
            "answer_reserve": compiled.answer_reserve,
            "messages_in_view": len(compiled.in_view),
            "messages_to_fold": len(compiled.evicted),
        }
    )


async def list_tools(request: web.Request) -> web.Response:
    agent = await agent_of(request)
    tools = await services_of(request).turns.tools_for(agent)
    return reply(
        {
            "tools": [
                {"name": name, "terminal": tool.terminal, "schema": tool.schema()}
                for name, tool in tools.items()
            ]
        }
    )


async def run_tool(request: web.Request) -> web.Response:
    """Run one tool as the agent would in this conversation: memory edits land in the
    conversation's scope, searches see what its audience may see, replies are not sent."""
    agent = await agent_of(request)
    run = await body_of(request, ToolRun)
    services = services_of(request)
    name = request.match_info["tool"]
    speaker = Author(run.user or "inspector", run.speaker_name or "inspector")
    asked = Inbound(
        platform=INSPECTOR_PLATFORM,
        agent_id=agent.id,
        audience=run.audience,
        thread=run.thread,
        author=speaker,
        text="",
        event_id=new_id(),
        message_ref="",
        sent_at=utcnow(),
        channel_name=run.channel_name,
    )
    raw = run.arguments if isinstance(run.arguments, str) else json.dumps(run.arguments)
    started = time.perf_counter()
    trial = await services.turns.try_tool(
        agent, ToolCall(new_id(), name, raw), asked, run.memory(services.stores.blocks, agent)
    )
    if trial is None:
        fail(404, f"{agent.name} has no tool called {name!r}")
    return reply(
        {
            "output": trial.outcome.output,
            "error": trial.outcome.error,
            "terminal": trial.outcome.terminal,
            "replies": [r.text for r in trial.replies],
            "elapsed_ms": round((time.perf_counter() - started) * 1000, 2),
        }
    )


ENDPOINTS = (
    Endpoint(
        "GET",
        "/agents/{agent_id}/context",
        get_context,
        "The exact request of the agent's next LLM call in the conversation, with token counts",
        "context",
        query=ConversationQuery,
    ),
    Endpoint(
        "GET", "/agents/{agent_id}/tools", list_tools, "The agent's tools and schemas", "tools"
    ),
    Endpoint(
        "POST",
        "/agents/{agent_id}/tools/{tool}/run",
        run_tool,
        "Run one tool as the agent would in the conversation",
        "tools",
        body=ToolRun,
    ),
)
