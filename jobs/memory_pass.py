"""One memory pass: the model reads a conversation's new messages and updates memory.

It runs on the agent's own tool loop (``engine.run_pass``) with its own prompt and tools:
append to or rethink the ``human`` block of a person named by user id and the ``channel``
block, keep archival passages (the built-in insert), finish. Every write goes through
``TurnMemory`` built for the conversation's audience, so it lands under the same scope a live
turn's would (DESIGN §3).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from engine import (
    ARCHIVAL_INSERT,
    BUILTIN_TOOLS,
    Agent,
    AgentPass,
    Audience,
    AudienceKind,
    Author,
    BlockLabel,
    FunctionTool,
    Message,
    Role,
    Store,
    Tool,
    ToolContext,
    ToolError,
    TurnMemory,
)

PASS_PROMPT = """\
You are the long-term memory of {name}, an assistant on a chat platform. While nobody is \
talking you read what was said since you last looked, and keep {name}'s memory up to date.

What you keep:
- human blocks, one per person: what {name} must always remember about them (name, role, \
preferences, projects, plans). Edit them with core_memory_append or memory_rethink, naming \
the person by the user id shown in the transcript.
- the channel block (not in direct messages): what the channel is for, its decisions and \
conventions.
- archival memory: details worth finding later, as self-contained sentences with short tags \
(archival_memory_insert).

Rules:
- Keep only lasting facts the messages state; never guess. Skip what memory already says.
- Keep blocks short: rewrite with memory_rethink rather than let them grow; details go to \
archival memory.
- What you write here is visible only {visibility}.
- Call finish_memory_pass when you are done, also when there is nothing to keep."""

FINISH = "finish_memory_pass"
APPEND = "core_memory_append"
RETHINK = "memory_rethink"
#: The pass's tools that write memory; their successful calls are the pass's writes.
MEMORY_WRITES = frozenset({APPEND, RETHINK, ARCHIVAL_INSERT})
MemoryLabel = Literal["human", "channel"]


class AppendArgs(BaseModel):
    label: MemoryLabel = Field(description="human (about one person) or channel.")
    content: str = Field(description="Text to add on a new line.")
    user: str = Field(default="", description="For human: the person's user id.")


class RethinkArgs(BaseModel):
    label: MemoryLabel = Field(description="human (about one person) or channel.")
    new_memory: str = Field(description="The complete new text of the block.")
    user: str = Field(default="", description="For human: the person's user id.")


class FinishArgs(BaseModel):
    note: str = Field(default="", description="What you kept, in a few words.")


def _memory(
    store: Store,
    agent: Agent,
    audience: Audience,
    channel_name: str,
    people: Mapping[str, str],
    person: str,
) -> TurnMemory:
    return TurnMemory(
        store.blocks,
        agent,
        audience,
        speaker=Author(person, people.get(person, "")),
        channel_name=channel_name,
    )


def _block(ctx: ToolContext, label: str, user: str) -> TurnMemory:
    """The memory holding ``label`` for the person ``user`` names (``ToolError`` if unclear)."""
    if label == BlockLabel.CHANNEL and ctx.audience.kind is AudienceKind.DM:
        raise ToolError("direct messages have no channel block; use human.")
    person = _person(ctx.audience, ctx.people, user) if label == BlockLabel.HUMAN else ""
    # The pass's own memory, seen as that person: its edits carry the pass's lineage.
    return replace(ctx.memory, speaker=Author(person, ctx.people.get(person, "")))


def _person(audience: Audience, people: Mapping[str, str], user: str) -> str:
    if audience.kind is AudienceKind.DM:
        assert audience.user is not None
        return audience.user
    wanted = user.strip().lower()
    if not wanted and len(people) == 1:
        return next(iter(people))
    for person, name in people.items():
        if wanted in (person.lower(), name.lower()):
            return person
    raise ToolError(
        "name the person with user=<id>; people in this conversation: "
        + ", ".join(f"{pid} ({name})" for pid, name in people.items())
    )


async def _append(ctx: ToolContext, args: AppendArgs) -> str:
    view = await _block(ctx, args.label, args.user).append(args.label, args.content)
    return f"Appended to {view.label} ({view.size}/{view.limit} characters)."


async def _rethink(ctx: ToolContext, args: RethinkArgs) -> str:
    view = await _block(ctx, args.label, args.user).rethink(args.label, args.new_memory)
    return f"Rewrote {view.label} ({view.size}/{view.limit} characters)."


async def _finish(ctx: ToolContext, args: FinishArgs) -> str:
    return "Done."


PASS_TOOLS: Mapping[str, Tool] = {
    tool.name: tool
    for tool in (
        FunctionTool(APPEND, "Add a line to a memory block.", AppendArgs, _append),
        FunctionTool(
            RETHINK,
            "Rewrite a memory block completely (to reorganise or shorten it).",
            RethinkArgs,
            _rethink,
        ),
        BUILTIN_TOOLS[ARCHIVAL_INSERT],
        FunctionTool(FINISH, "End the memory pass.", FinishArgs, _finish, terminal=True),
    )
}


def transcript(messages: Sequence[Message], agent_name: str) -> list[str]:
    """What people and the assistant said, one line each (tool traffic left out)."""
    lines: list[str] = []
    for m in messages:
        when = f"{m.created_at:%Y-%m-%d %H:%M}"
        if m.role is Role.USER:
            lines.append(f"[{when}] {m.author_name} (user {m.author}): {m.content}")
        elif m.role is Role.ASSISTANT:
            said = [m.content] if m.content else []
            said += [_reply_text(c.arguments) for c in m.tool_calls if c.name == "send_message"]
            if any(said):
                lines.append(f"[{when}] {agent_name} (assistant): {' '.join(s for s in said if s)}")
    return lines


def _reply_text(arguments: str) -> str:
    try:
        value = json.loads(arguments)
    except json.JSONDecodeError:
        return ""
    return str(value.get("message", "")) if isinstance(value, dict) else ""


def _visibility(audience: Audience, people: Mapping[str, str]) -> str:
    if audience.kind is AudienceKind.DM:
        name = people.get(audience.user or "", audience.user)
        return f"in direct messages with {name}"
    if audience.kind is AudienceKind.PRIVATE:
        return "in this private channel"
    return "to everyone in this workspace"


async def _render_memory(
    store: Store, agent: Agent, audience: Audience, channel_name: str, people: Mapping[str, str]
) -> str:
    parts: list[str] = []
    for person, name in people.items():
        memory = _memory(store, agent, audience, channel_name, people, person)
        view = await memory.view(BlockLabel.HUMAN)
        parts.append(f'<human user="{person}" name="{name}">\n{view.value}\n</human>')
    if audience.kind is not AudienceKind.DM:
        memory = _memory(store, agent, audience, channel_name, people, "")
        view = await memory.view(BlockLabel.CHANNEL)
        parts.append(f'<channel name="{channel_name}">\n{view.value}\n</channel>')
    return "\n".join(parts)


async def memory_pass(
    store: Store,
    agent: Agent,
    audience: Audience,
    *,
    channel_name: str,
    people: Mapping[str, str],
    lines: Sequence[str],
    now: datetime,
    max_steps: int,
    read: Sequence[str] = (),
) -> AgentPass:
    """The pass that lets the model update memory from ``lines`` (what ``people`` said, in the
    messages ``read``: what the pass writes is derived from them)."""
    memory = await _render_memory(store, agent, audience, channel_name, people)
    return AgentPass(
        agent=agent,
        audience=audience,
        prompt=PASS_PROMPT.format(name=agent.name, visibility=_visibility(audience, people)),
        body=f"Memory now:\n{memory}\n\nNew messages in {channel_name}:\n" + "\n".join(lines),
        tools=PASS_TOOLS,
        max_steps=max_steps,
        people=people,
        channel_name=channel_name,
        now=now,
        read=tuple(read),
    )
