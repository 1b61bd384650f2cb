"""Background passes run on the agent's own tool loop: its tool errors, rules and step limit."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from engine import (
    ARCHIVAL_INSERT,
    BUILTIN_TOOLS,
    Agent,
    AgentPass,
    Audience,
    AudienceKind,
    ChatRequest,
    Completion,
    FunctionTool,
    RecordFilter,
    Role,
    Store,
    Tool,
    ToolCall,
    ToolContext,
    ToolError,
    create_agent,
    open_store,
    run_pass,
    utcnow,
)
from engine.llm import Usage
from tests.fakes.embedder import HashEmbedder

TEAM = Audience("test:W1", AudienceKind.PRIVATE, "C-team")


class ScriptedModel:
    """Answers each step with the next scripted tool call; keeps every request."""

    def __init__(self, *calls: tuple[str, dict[str, Any]]) -> None:
        self._calls = list(calls)
        self.requests: list[tuple[list[Mapping[str, Any]], list[str]]] = []

    async def complete(self, request: ChatRequest) -> Completion:
        names = [t["function"]["name"] for t in request.tools]
        self.requests.append((list(request.messages), names))
        name, arguments = self._calls.pop(0)
        call = ToolCall(f"call-{len(self.requests)}", name, json.dumps(arguments))
        return Completion((call,), None, Usage(10, 5), request.model)


class NoArgs(BaseModel):
    pass


async def _refuse(ctx: ToolContext, args: NoArgs) -> str:
    raise ToolError("not now")


async def _finish(ctx: ToolContext, args: NoArgs) -> str:
    return "Done."


TOOLS: Mapping[str, Tool] = {
    "refuse": FunctionTool("refuse", "Always refuses.", NoArgs, _refuse),
    ARCHIVAL_INSERT: BUILTIN_TOOLS[ARCHIVAL_INSERT],
    "finish": FunctionTool("finish", "Ends the pass.", NoArgs, _finish, terminal=True),
}


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await open_store(mongodb_uri=None, data_dir=tmp_path)
    try:
        yield opened
    finally:
        await opened.close()


def task(agent: Agent, max_steps: int) -> AgentPass:
    return AgentPass(
        agent=agent,
        audience=TEAM,
        prompt="You keep memory.",
        body="New messages: bob said the launch is on March 3.",
        tools=TOOLS,
        max_steps=max_steps,
        people={"bob": "Bob"},
        channel_name="#team",
        now=utcnow(),
    )


async def test_a_pass_runs_on_the_tool_loop_and_reports_its_calls(store: Store) -> None:
    agent = await create_agent(store, "keeper", model="fake")
    model = ScriptedModel(
        ("refuse", {}),
        ("no_such_tool", {}),
        (ARCHIVAL_INSERT, {"content": "The launch is on March 3.", "tags": ["Launch"]}),
        ("finish", {}),
    )
    report = await run_pass(store, HashEmbedder(), task(agent, max_steps=6), model)

    assert [call.name for call, _ in report.calls] == [
        "refuse",
        "no_such_tool",
        ARCHIVAL_INSERT,
        "finish",
    ]
    assert report.succeeded({ARCHIVAL_INSERT}) == 1
    assert [m.role for m in report.messages] == [Role.ASSISTANT, Role.TOOL] * 4
    # Tool errors come back to the model as the results it reads next.
    first, opening = model.requests[1][0][-1], model.requests[0][0]
    assert first == {"role": "tool", "tool_call_id": "call-1", "content": "Error: not now"}
    assert "there is no tool called 'no_such_tool'" in model.requests[2][0][-1]["content"]
    assert [m["content"] for m in opening] == ["You keep memory.", task(agent, 6).body]
    # The built-in insert keeps the passage under the pass's audience, naming its people.
    [kept] = await store.passages.list(RecordFilter.for_audience(agent.id, TEAM), 10)
    assert (kept.text, kept.scope, kept.users, kept.tags) == (
        "The launch is on March 3.",
        TEAM.write_scope,
        ("bob",),
        ("launch",),
    )


async def test_a_pass_last_step_offers_only_its_terminal_tools(store: Store) -> None:
    agent = await create_agent(store, "keeper", model="fake")
    model = ScriptedModel(("refuse", {}), ("finish", {}))
    report = await run_pass(store, HashEmbedder(), task(agent, max_steps=2), model)

    assert [offered for _, offered in model.requests] == [list(TOOLS), ["finish"]]
    assert report.succeeded({"finish"}) == 1
