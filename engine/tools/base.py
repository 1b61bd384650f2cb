"""What a tool is, for every caller of the agent loop: built-ins, memory passes, sandboxed
custom tools and agent messaging all implement ``Tool``, read a ``ToolContext``, fail with
``ToolError`` and answer with a ``ToolOutcome``.

Arguments are validated by pydantic models, whose JSON schemas are what the model sees; a bad
call comes back to the agent as a readable tool error, never as a crash.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ValidationError

from engine.agent.memory import MemoryEditError, TurnMemory
from engine.agent.provenance import Provenance
from engine.audience import Audience
from engine.citations import PlatformLinks
from engine.embeddings import Embedder
from engine.progress import report_step
from engine.records import Agent, Author, ConversationKey, Inbound, Message, Passage
from engine.search import HistoryRead
from engine.search.exchanges import Exchange
from engine.store.protocol import RecordFilter, Scored, Store
from engine.turns import Replies

MAX_TOOL_OUTPUT = 6000


class Searcher(Protocol):
    async def messages(
        self, where: RecordFilter, query: str, limit: int
    ) -> list[Scored[Message]]: ...

    async def passages(
        self, where: RecordFilter, query: str, limit: int
    ) -> list[Scored[Passage]]: ...

    async def exchanges(
        self,
        where: RecordFilter,
        query: str,
        limit: int,
        exclude: frozenset[str],
        asked_in: ConversationKey | None = None,
    ) -> list[Exchange]:
        """The best matches not in ``exclude``, each with the turns around it; those of the
        conversation ``asked_in`` first."""

    async def index_messages(self, messages: Sequence[Message]) -> None:
        """Make newly stored messages findable by meaning."""

    async def message_embeddings(
        self, messages: Sequence[Message], seen: HistoryRead | None = None
    ) -> list[tuple[str, list[float]]]:
        """What ``index_messages`` would attach, by message id, to be stored with them;
        ``seen`` is what the turn read of their conversation, saving a read."""


@dataclass(slots=True)
class ToolContext:
    """What a tool may touch during one run of the loop: this agent's memory for this audience.

    A turn answers ``inbound`` and may reply; a background pass has neither.
    """

    agent: Agent
    audience: Audience
    speaker: Author
    memory: TurnMemory
    store: Store
    embedder: Embedder
    now: datetime
    #: The people whose words this run reads, by user id; passages kept name them.
    people: Mapping[str, str] = field(default_factory=dict)
    search: Searcher | None = None
    #: The message this turn answers (its platform, thread and agent-to-agent hop count).
    inbound: Inbound | None = None
    #: Where this turn's replies go; None where nobody is answered.
    replies: Replies | None = None
    #: Stored messages already in the context window; searches leave them out.
    in_view: frozenset[str] = frozenset()
    #: The platforms' links, for citing where search results were said.
    links: PlatformLinks | None = None

    @property
    def where(self) -> RecordFilter:
        return RecordFilter.for_audience(self.agent.id, self.audience)

    @property
    def provenance(self) -> Provenance:
        """Where this run's writes come from: every writer asks it for the sources of its text."""
        return self.memory.provenance


@dataclass(frozen=True, slots=True)
class ToolOutcome:
    output: str
    error: bool = False
    terminal: bool = False


class ToolError(Exception):
    """A failure the agent can read and act on."""


class Tool(Protocol):
    """Anything the agent loop can call."""

    @property
    def name(self) -> str: ...

    @property
    def terminal(self) -> bool: ...

    def schema(self) -> dict[str, Any]: ...

    async def invoke(self, ctx: ToolContext, raw_arguments: str) -> ToolOutcome: ...


@runtime_checkable
class AudienceLimited(Protocol):
    """A tool offered only to some audiences (an MCP server limited away from DMs)."""

    def serves(self, audience: Audience) -> bool: ...


def for_audience(tools: Mapping[str, Tool], audience: Audience) -> dict[str, Tool]:
    """The tools a turn heard by ``audience`` may be offered: limited tools elsewhere are left
    out, so the model never sees them."""
    return {
        name: tool
        for name, tool in tools.items()
        if not isinstance(tool, AudienceLimited) or tool.serves(audience)
    }


#: ``source__*`` in an agent's tools attaches every tool of that source (an MCP server).
EVERY_TOOL_OF = "__*"


def attached(names: Collection[str], tool: str) -> bool:
    """Whether an agent whose tools are ``names`` has ``tool``: by its name, or by its
    source's ``source__*``."""
    source, separator, _ = tool.partition("__")
    return tool in names or bool(separator and f"{source}{EVERY_TOOL_OF}" in names)


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


type ToolFunction = Callable[[ToolContext, Any], Awaitable[str]]


@dataclass(frozen=True, slots=True)
class FunctionTool:
    """A tool written as an async function of the context and its validated arguments."""

    name: str
    description: str
    arguments: type[BaseModel]
    run: ToolFunction
    terminal: bool = False
    #: What the agent is doing while it runs, as people see it ("searching memory…").
    status: str = ""

    def schema(self) -> dict[str, Any]:
        return function_schema(self.name, self.description, self.arguments)

    async def invoke(self, ctx: ToolContext, raw_arguments: str) -> ToolOutcome:
        """Run one call; every failure the agent can fix becomes a tool error."""
        await report_step(self.status)
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


def parse_arguments(raw: str) -> dict[str, Any]:
    """A call's JSON arguments as an object (``ToolError`` when they are not one)."""
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
    """A tool's output cut to what one result may put in the context window."""
    if len(text) <= MAX_TOOL_OUTPUT:
        return text
    return text[:MAX_TOOL_OUTPUT] + f"\n[... {len(text) - MAX_TOOL_OUTPUT} more characters cut]"
