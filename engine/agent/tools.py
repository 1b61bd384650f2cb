"""Built-in tools: replying, staying silent, editing core memory, archival and recall search.

Every LLM step is a call to one of these (or to a custom or agent-messaging tool). Arguments are
validated by pydantic models, whose JSON schemas are what the model sees; a bad call comes back
to the agent as a readable tool error, never as a crash.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol

from pydantic import BaseModel, Field, ValidationError

from engine.agent.memory import MemoryEditError, TurnMemory
from engine.audience import Audience
from engine.embeddings import Embedder
from engine.records import Agent, Author, Inbound, Message, Passage, new_id
from engine.store.protocol import RecordFilter, Scored, Store

MAX_TOOL_OUTPUT = 6000
#: How many more results a recall search asks for, to make up for those already in view.
IN_VIEW_SLACK = 50
SEND_MESSAGE = "send_message"
NO_REPLY = "no_reply"
TERMINAL_TOOLS = frozenset({SEND_MESSAGE, NO_REPLY})


class Searcher(Protocol):
    async def messages(
        self, where: RecordFilter, query: str, limit: int
    ) -> list[Scored[Message]]: ...

    async def passages(
        self, where: RecordFilter, query: str, limit: int
    ) -> list[Scored[Passage]]: ...

    async def index_messages(self, messages: Sequence[Message]) -> None:
        """Make newly stored messages findable by meaning."""


@dataclass(slots=True)
class TurnContext:
    """What a tool may touch during one turn: this agent's memory for this audience."""

    agent: Agent
    audience: Audience
    speaker: Author
    memory: TurnMemory
    store: Store
    search: Searcher
    embedder: Embedder
    now: datetime
    replies: list[str] = field(default_factory=list)
    #: The message this turn answers (its platform, thread and agent-to-agent hop count).
    inbound: Inbound | None = None
    #: Stored messages already in the context window; searches leave them out.
    in_view: frozenset[str] = frozenset()

    @property
    def where(self) -> RecordFilter:
        return RecordFilter.for_audience(self.agent.id, self.audience)


@dataclass(frozen=True, slots=True)
class ToolOutcome:
    output: str
    error: bool = False
    terminal: bool = False


@functools.cache
def function_schema(name: str, description: str, arguments: type[BaseModel]) -> dict[str, Any]:
    """The OpenAI tool schema of a function whose arguments a pydantic model describes.

    Built once per tool (pydantic's schema generation costs milliseconds); treat as read-only.
    """
    parameters = arguments.model_json_schema()
    parameters.pop("title", None)
    for prop in parameters.get("properties", {}).values():
        prop.pop("title", None)
    return {
        "type": "function",
        "function": {"name": name, "description": description, "parameters": parameters},
    }


class ToolError(Exception):
    """A failure the agent can read and act on."""


class Tool(Protocol):
    """Anything the agent can call: built-ins, sandboxed custom tools, agent messaging."""

    @property
    def name(self) -> str: ...

    @property
    def terminal(self) -> bool: ...

    def schema(self) -> dict[str, Any]: ...

    async def invoke(self, ctx: TurnContext, raw_arguments: str) -> ToolOutcome: ...


type ToolFunction = Callable[[TurnContext, Any], Awaitable[str]]


@dataclass(frozen=True, slots=True)
class BuiltinTool:
    name: str
    description: str
    arguments: type[BaseModel]
    run: ToolFunction
    terminal: bool = False

    def schema(self) -> dict[str, Any]:
        return function_schema(self.name, self.description, self.arguments)

    async def invoke(self, ctx: TurnContext, raw_arguments: str) -> ToolOutcome:
        """Run one call; every failure the agent can fix becomes a tool error."""
        try:
            args = self.arguments.model_validate(parse_arguments(raw_arguments))
            output = await self.run(ctx, args)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}"
                for e in exc.errors()
            )
            return ToolOutcome(f"Error: invalid arguments for {self.name}: {problems}", error=True)
        except (ToolError, MemoryEditError) as exc:
            return ToolOutcome(f"Error: {exc}", error=True)
        return ToolOutcome(clip(output), terminal=self.terminal)


# -- arguments -----------------------------------------------------------------------------------


class SendMessageArgs(BaseModel):
    message: str = Field(
        description="The reply, in Markdown. Everyone in this conversation sees it."
    )


class NoReplyArgs(BaseModel):
    reason: str = Field(default="", description="Why no reply is needed (kept in your memory).")


class AppendArgs(BaseModel):
    label: str = Field(description="Block label, e.g. human, persona, channel.")
    content: str = Field(description="Text to add on a new line.")


class ReplaceArgs(BaseModel):
    label: str = Field(description="Block label, e.g. human, persona, channel.")
    old_content: str = Field(description="Exact text to replace; must occur exactly once.")
    new_content: str = Field(description="Replacement text (empty to delete).")


class RethinkArgs(BaseModel):
    label: str = Field(description="Block label, e.g. human, persona, channel.")
    new_memory: str = Field(description="The complete new text of this conversation's part.")


class ArchivalInsertArgs(BaseModel):
    content: str = Field(description="A self-contained fact or note worth keeping.")
    tags: list[str] = Field(default_factory=list, description="Short topic tags.")


class ArchivalSearchArgs(BaseModel):
    query: str = Field(description="What to look for, in natural language.")
    tags: list[str] = Field(default_factory=list, description="Only passages with any of these.")
    start_date: str | None = Field(default=None, description="YYYY-MM-DD, inclusive.")
    end_date: str | None = Field(default=None, description="YYYY-MM-DD, inclusive.")
    top_k: int = Field(default=5, ge=1, le=20)


class ConversationSearchArgs(BaseModel):
    query: str = Field(description="Words, names or a question to look for in past messages.")
    start_date: str | None = Field(default=None, description="YYYY-MM-DD, inclusive.")
    end_date: str | None = Field(default=None, description="YYYY-MM-DD, inclusive.")
    limit: int = Field(default=8, ge=1, le=25)


# -- implementations -----------------------------------------------------------------------------


async def send_message(ctx: TurnContext, args: SendMessageArgs) -> str:
    text = args.message.strip()
    if not text:
        raise ToolError("message is empty; write the reply, or call no_reply to stay silent.")
    ctx.replies.append(text)
    return "Sent."


async def no_reply(ctx: TurnContext, args: NoReplyArgs) -> str:
    return "No reply sent."


async def core_memory_append(ctx: TurnContext, args: AppendArgs) -> str:
    view = await ctx.memory.append(args.label, args.content)
    return f"Appended to {view.label} ({view.size}/{view.limit} characters)."


async def core_memory_replace(ctx: TurnContext, args: ReplaceArgs) -> str:
    view = await ctx.memory.replace(args.label, args.old_content, args.new_content)
    return f"Updated {view.label} ({view.size}/{view.limit} characters)."


async def memory_rethink(ctx: TurnContext, args: RethinkArgs) -> str:
    view = await ctx.memory.rethink(args.label, args.new_memory)
    return f"Rewrote {view.label} ({view.size}/{view.limit} characters)."


async def archival_memory_insert(ctx: TurnContext, args: ArchivalInsertArgs) -> str:
    text = args.content.strip()
    if not text:
        raise ToolError("content is empty.")
    vectors = await ctx.embedder.embed([text])
    passage = Passage(
        id=new_id(),
        agent_id=ctx.agent.id,
        workspace=ctx.audience.workspace,
        scope=ctx.audience.write_scope,
        text=text,
        tags=tuple(sorted({t.strip().lower() for t in args.tags if t.strip()})),
        users=(ctx.speaker.id,) if ctx.speaker.id and not ctx.speaker.is_agent else (),
        created_at=ctx.now,
        embedding=tuple(float(x) for x in vectors[0]),
    )
    await ctx.store.passages.insert([passage])
    return "Stored in archival memory."


def _date_window(start: str | None, end: str | None) -> tuple[datetime | None, datetime | None]:
    try:
        lo = datetime.combine(date.fromisoformat(start), time.min, UTC) if start else None
        hi = (
            datetime.combine(date.fromisoformat(end), time.min, UTC) + timedelta(days=1)
            if end
            else None
        )
    except ValueError as exc:
        raise ToolError(f"dates must be YYYY-MM-DD ({exc}).") from exc
    return lo, hi


def _filter(
    ctx: TurnContext, start: str | None, end: str | None, tags: Sequence[str] = ()
) -> RecordFilter:
    lo, hi = _date_window(start, end)
    base = ctx.where
    return RecordFilter(
        base.agent_id, base.workspace, base.scopes, start=lo, end=hi, tags=tuple(tags)
    )


async def archival_memory_search(ctx: TurnContext, args: ArchivalSearchArgs) -> str:
    where = _filter(ctx, args.start_date, args.end_date, [t.lower() for t in args.tags])
    hits = await ctx.search.passages(where, args.query, args.top_k)
    if not hits:
        return "No archival passages matched."
    lines = [f"{len(hits)} passages:"]
    for hit in hits:
        p = hit.record
        tags = f" [{', '.join(p.tags)}]" if p.tags else ""
        lines.append(f"- ({p.created_at:%Y-%m-%d}){tags} {p.text}")
    return "\n".join(lines)


async def conversation_search(ctx: TurnContext, args: ConversationSearchArgs) -> str:
    where = _filter(ctx, args.start_date, args.end_date)
    extra = min(len(ctx.in_view), IN_VIEW_SLACK)
    found = await ctx.search.messages(where, args.query, args.limit + extra)
    hits = [hit for hit in found if hit.record.id not in ctx.in_view][: args.limit]
    if not hits:
        return "No past messages matched."
    lines = [f"{len(hits)} messages:"]
    for hit in hits:
        m = hit.record
        lines.append(f"- [{m.created_at:%Y-%m-%d %H:%M}] {m.author_name}: {m.content}")
    return "\n".join(lines)


BUILTIN_TOOLS: dict[str, BuiltinTool] = {
    tool.name: tool
    for tool in (
        BuiltinTool(
            SEND_MESSAGE,
            "Send a reply to the conversation. Ends your turn.",
            SendMessageArgs,
            send_message,
            terminal=True,
        ),
        BuiltinTool(
            NO_REPLY,
            "End your turn without replying (nothing needs an answer from you). Ends your turn.",
            NoReplyArgs,
            no_reply,
            terminal=True,
        ),
        BuiltinTool(
            "core_memory_append",
            "Add a line to a core memory block (what you must always keep in mind).",
            AppendArgs,
            core_memory_append,
        ),
        BuiltinTool(
            "core_memory_replace",
            "Replace exact text in a core memory block.",
            ReplaceArgs,
            core_memory_replace,
        ),
        BuiltinTool(
            "memory_rethink",
            "Rewrite this conversation's part of a core memory block completely "
            "(to reorganise or shorten it).",
            RethinkArgs,
            memory_rethink,
        ),
        BuiltinTool(
            "archival_memory_insert",
            "Keep a fact or note in archival memory (unlimited, searched by meaning).",
            ArchivalInsertArgs,
            archival_memory_insert,
        ),
        BuiltinTool(
            "archival_memory_search",
            "Search archival memory by meaning, optionally by tags and dates.",
            ArchivalSearchArgs,
            archival_memory_search,
        ),
        BuiltinTool(
            "conversation_search",
            "Search past messages (recall memory) by words, names and dates.",
            ConversationSearchArgs,
            conversation_search,
        ),
    )
}

DEFAULT_TOOLS: tuple[str, ...] = tuple(BUILTIN_TOOLS)


def parse_arguments(raw: str) -> dict[str, Any]:
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ToolError(f"arguments are not valid JSON ({exc.msg} at {exc.pos}).") from exc
    if not isinstance(value, dict):
        raise ToolError("arguments must be a JSON object.")
    return value


def clip(text: str) -> str:
    if len(text) <= MAX_TOOL_OUTPUT:
        return text
    return text[:MAX_TOOL_OUTPUT] + f"\n[... {len(text) - MAX_TOOL_OUTPUT} more characters cut]"
