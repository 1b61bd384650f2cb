"""One memory pass: the model reads a conversation's new messages and updates memory.

It has its own prompt and tools (append to or rethink the ``human`` and ``channel`` blocks,
insert tagged archival passages, finish). Every write goes through ``TurnMemory`` built for
the conversation's audience, so it lands under the same scope a live turn's would (DESIGN §3).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from engine.agent.context import chat_tool_calls
from engine.agent.memory import MemoryEditError, TurnMemory
from engine.agent.tools import clip, function_schema, parse_arguments
from engine.audience import Audience, AudienceKind
from engine.embeddings import Embedder
from engine.records import Agent, BlockLabel, Message, Passage, Role, new_id
from engine.store.protocol import Store
from jobs.budget import BudgetedModel

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
MemoryLabel = Literal["human", "channel"]


class AppendArgs(BaseModel):
    label: MemoryLabel = Field(description="human (about one person) or channel.")
    content: str = Field(description="Text to add on a new line.")
    user: str = Field(default="", description="For human: the person's user id.")


class RethinkArgs(BaseModel):
    label: MemoryLabel = Field(description="human (about one person) or channel.")
    new_memory: str = Field(description="The complete new text of the block.")
    user: str = Field(default="", description="For human: the person's user id.")


class InsertArgs(BaseModel):
    content: str = Field(description="A self-contained fact or note worth keeping.")
    tags: list[str] = Field(default_factory=list, description="Short topic tags.")


class FinishArgs(BaseModel):
    note: str = Field(default="", description="What you kept, in a few words.")


class PassError(Exception):
    """A tool call the model can correct; returned to it as the tool's result."""


@dataclass(slots=True)
class PassState:
    """What one pass may touch: one agent's memory for one conversation's audience."""

    store: Store
    embedder: Embedder
    agent: Agent
    audience: Audience
    channel_name: str
    #: People who wrote the messages, by user id.
    people: Mapping[str, str]
    now: datetime
    writes: int = 0
    _memories: dict[str, TurnMemory] = field(default_factory=dict)

    def memory(self, label: str, user: str) -> TurnMemory:
        if label == BlockLabel.CHANNEL and self.audience.kind is AudienceKind.DM:
            raise PassError("direct messages have no channel block; use human.")
        speaker = self._speaker(user) if label == BlockLabel.HUMAN else ""
        if speaker not in self._memories:
            self._memories[speaker] = TurnMemory(
                self.store.blocks,
                self.agent,
                self.audience,
                speaker=speaker,
                speaker_name=self.people.get(speaker, ""),
                channel_name=self.channel_name,
            )
        return self._memories[speaker]

    def _speaker(self, user: str) -> str:
        if self.audience.kind is AudienceKind.DM:
            assert self.audience.user is not None
            return self.audience.user
        wanted = user.strip().lower()
        if not wanted and len(self.people) == 1:
            return next(iter(self.people))
        for person, name in self.people.items():
            if wanted in (person.lower(), name.lower()):
                return person
        raise PassError(
            "name the person with user=<id>; people in this conversation: "
            + ", ".join(f"{pid} ({name})" for pid, name in self.people.items())
        )


async def _append(state: PassState, args: AppendArgs) -> str:
    view = await state.memory(args.label, args.user).append(args.label, args.content)
    state.writes += 1
    return f"Appended to {view.label} ({view.size}/{view.limit} characters)."


async def _rethink(state: PassState, args: RethinkArgs) -> str:
    view = await state.memory(args.label, args.user).rethink(args.label, args.new_memory)
    state.writes += 1
    return f"Rewrote {view.label} ({view.size}/{view.limit} characters)."


async def _insert(state: PassState, args: InsertArgs) -> str:
    text = args.content.strip()
    if not text:
        raise PassError("content is empty.")
    vectors = await state.embedder.embed([text])
    await state.store.passages.insert(
        [
            Passage(
                id=new_id(),
                agent_id=state.agent.id,
                workspace=state.audience.workspace,
                scope=state.audience.write_scope,
                text=text,
                tags=tuple(sorted({t.strip().lower() for t in args.tags if t.strip()})),
                users=tuple(state.people),
                created_at=state.now,
                embedding=tuple(float(x) for x in vectors[0]),
            )
        ]
    )
    state.writes += 1
    return "Stored in archival memory."


async def _finish(state: PassState, args: FinishArgs) -> str:
    return "Done."


@dataclass(frozen=True, slots=True)
class PassTool:
    name: str
    description: str
    arguments: type[BaseModel]
    run: Callable[[PassState, Any], Awaitable[str]]

    def schema(self) -> dict[str, Any]:
        return function_schema(self.name, self.description, self.arguments)

    async def invoke(self, state: PassState, raw: str) -> tuple[str, bool]:
        """The tool's result text and whether the call succeeded."""
        try:
            return await self.run(state, self.arguments.model_validate(parse_arguments(raw))), True
        except ValidationError as exc:
            return f"Error: invalid arguments for {self.name}: {exc.errors()[0]['msg']}", False
        except (PassError, MemoryEditError, ValueError) as exc:
            return f"Error: {exc}", False


PASS_TOOLS: dict[str, PassTool] = {
    tool.name: tool
    for tool in (
        PassTool("core_memory_append", "Add a line to a memory block.", AppendArgs, _append),
        PassTool(
            "memory_rethink",
            "Rewrite a memory block completely (to reorganise or shorten it).",
            RethinkArgs,
            _rethink,
        ),
        PassTool(
            "archival_memory_insert",
            "Keep a detail in archival memory (searched by meaning later).",
            InsertArgs,
            _insert,
        ),
        PassTool(FINISH, "End the memory pass.", FinishArgs, _finish),
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


async def _render_memory(state: PassState) -> str:
    parts: list[str] = []
    for person, name in state.people.items():
        view = await state.memory(BlockLabel.HUMAN, person).view(BlockLabel.HUMAN)
        parts.append(f'<human user="{person}" name="{name}">\n{view.value}\n</human>')
    if state.audience.kind is not AudienceKind.DM:
        view = await state.memory(BlockLabel.CHANNEL, "").view(BlockLabel.CHANNEL)
        parts.append(f'<channel name="{state.channel_name}">\n{view.value}\n</channel>')
    return "\n".join(parts)


async def run_memory_pass(
    state: PassState, lines: Sequence[str], model: BudgetedModel, max_steps: int
) -> int:
    """Let the model update memory from ``lines``; returns the number of memory writes."""
    system = PASS_PROMPT.format(
        name=state.agent.name, visibility=_visibility(state.audience, state.people)
    )
    body = (
        f"Memory now:\n{await _render_memory(state)}\n\n"
        f"New messages in {state.channel_name}:\n" + "\n".join(lines)
    )
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": system},
        {"role": "user", "content": body},
    ]
    schemas = [tool.schema() for tool in PASS_TOOLS.values()]
    for _ in range(max_steps):
        completion = await model.complete(state.agent.model, messages, schemas)
        if not completion.tool_calls:
            break
        messages.append(
            {
                "role": "assistant",
                "content": completion.text,
                "tool_calls": chat_tool_calls(completion.tool_calls),
            }
        )
        finished = False
        for call in completion.tool_calls:
            tool = PASS_TOOLS.get(call.name)
            if tool is None:
                output, ok = f"Error: no tool {call.name!r}; use {', '.join(PASS_TOOLS)}.", False
            else:
                output, ok = await tool.invoke(state, call.arguments)
            messages.append({"role": "tool", "tool_call_id": call.id, "content": clip(output)})
            finished = finished or (ok and call.name == FINISH)
        if finished:
            break
    return state.writes
