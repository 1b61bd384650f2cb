"""Custom tools in the agent loop: the ``Tool`` the loop calls, and the memory bridge of a turn.

The bridge answers a tool's memory calls through the built-in memory tools of the same turn,
so a custom tool reads and edits exactly what the agent itself could, under the same
audience rules.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from engine.agent.memory import MemoryEditError
from engine.progress import report_step
from engine.records import Agent
from engine.tools.base import Tool, ToolContext, ToolError, ToolOutcome, clip, parse_arguments
from engine.tools.builtin import BUILTIN_TOOLS
from engine.tools.custom import CustomTool, ToolRegistry
from engine.tools.sandbox._bridge import MemoryRefused
from engine.tools.sandbox._limits import SandboxLimits
from engine.tools.sandbox._sandbox import Sandbox

_ERROR_PREFIX = "Error: "


class TurnMemoryBridge:
    """``MemoryBridge`` over one turn's context."""

    def __init__(self, ctx: ToolContext) -> None:
        self._ctx = ctx

    async def read(self, label: str) -> str:
        try:
            view = await self._ctx.memory.view(label)
        except MemoryEditError as exc:
            raise MemoryRefused(str(exc)) from exc
        return view.value

    async def append(self, label: str, text: str) -> str:
        return await self._builtin("core_memory_append", label=label, content=text)

    async def replace(self, label: str, old: str, new: str) -> str:
        return await self._builtin(
            "core_memory_replace", label=label, old_content=old, new_content=new
        )

    async def archival_search(self, query: str) -> str:
        return await self._builtin("archival_memory_search", query=query)

    async def archival_insert(self, text: str, tags: list[str]) -> str:
        return await self._builtin("archival_memory_insert", content=text, tags=tags)

    async def _builtin(self, name: str, **arguments: Any) -> str:
        outcome = await BUILTIN_TOOLS[name].invoke(self._ctx, json.dumps(arguments))
        if outcome.error:
            raise MemoryRefused(outcome.output.removeprefix(_ERROR_PREFIX))
        return outcome.output


class SandboxedTool:
    """A custom tool as the agent loop sees it (``engine.tools.base.Tool``)."""

    terminal = False

    def __init__(
        self, tool: CustomTool, sandbox: Sandbox, limits: SandboxLimits | None = None
    ) -> None:
        self._tool = tool
        self._sandbox = sandbox
        self._limits = limits or SandboxLimits()

    @property
    def name(self) -> str:
        return self._tool.name

    def schema(self) -> dict[str, Any]:
        return self._tool.schema()

    async def invoke(self, ctx: ToolContext, raw_arguments: str) -> ToolOutcome:
        await report_step(f"running {self.name}…")
        try:
            args = parse_arguments(raw_arguments)
        except ToolError as exc:
            return ToolOutcome(f"{_ERROR_PREFIX}{exc}", error=True)
        outcome = await self._sandbox.run(
            self._tool, args, memory=TurnMemoryBridge(ctx), limits=self._limits
        )
        return ToolOutcome(clip(outcome.output), error=not outcome.ok)


class RegisteredTools:
    """The custom tools registered in the store, offered to agents that list them."""

    def __init__(self, registry: ToolRegistry, sandbox: Sandbox, limits: SandboxLimits) -> None:
        self._registry = registry
        self._sandbox = sandbox
        self._limits = limits

    async def tools_for(self, agent: Agent) -> Mapping[str, Tool]:
        found: dict[str, Tool] = {}
        for name in agent.tools:
            if name in BUILTIN_TOOLS:
                continue
            tool = await self._registry.get(name)
            if tool is not None:
                found[name] = SandboxedTool(tool, self._sandbox, self._limits)
        return found
