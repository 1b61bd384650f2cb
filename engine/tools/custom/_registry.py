"""Custom tools registered from the CLI or an agents file, in the store so every replica
sees them."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from engine.store.state import ToolRegistryStore
from engine.tools.custom._custom import CustomTool
from engine.tools.custom._loading import load_tool, split_tool_spec

#: Compare-and-set tries before a registration gives up to a stream of concurrent writers.
_WRITE_ATTEMPTS = 5


class ToolRegistryConflict(Exception):
    """Other writers kept changing the tool while it was being registered."""


class ToolRegistry:
    """Custom tools by name, over the store's tool registry."""

    def __init__(self, tools: ToolRegistryStore) -> None:
        self._tools = tools

    async def add(self, tool: CustomTool) -> CustomTool:
        """Register ``tool``, replacing any tool of the same name; returns it as stored.

        Registering the same definition again changes nothing. Each write is a compare-and-set
        on the version read, so a registration racing another is retried, never lost.
        """
        for _ in range(_WRITE_ATTEMPTS):
            current = await self._tools.get(tool.name)
            if current is not None and replace(tool, version=current.version) == current:
                return current
            stored = await self._tools.put(tool, current.version if current else 0)
            if stored is not None:
                return stored
        raise ToolRegistryConflict(f"tool {tool.name!r} kept changing; register it again")

    async def get(self, name: str) -> CustomTool | None:
        return await self._tools.get(name)

    async def remove(self, name: str) -> bool:
        return await self._tools.delete(name)

    async def all(self) -> list[CustomTool]:
        return await self._tools.list()


async def register_tool(tools: ToolRegistryStore, spec: str) -> CustomTool:
    """``mnemo tools add FILE[:FUNC]``: read the tool (without running it) and store it.

    Raises ``ToolDefinitionError`` with a fixable message when the file cannot be a tool.
    """
    path, function = split_tool_spec(spec)
    tool = await asyncio.to_thread(load_tool, path, function)
    return await ToolRegistry(tools).add(tool)
