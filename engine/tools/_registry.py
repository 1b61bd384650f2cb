"""Custom tools registered from the CLI, kept in the store so every replica sees them."""

from __future__ import annotations

import asyncio

from engine.store.protocol import KeyValueStore
from engine.tools._custom import CustomTool
from engine.tools._loading import load_tool, split_tool_spec

NAMESPACE = "tools"


class ToolRegistry:
    """Custom tools by name in the store's key-value namespace ``tools``."""

    def __init__(self, kv: KeyValueStore) -> None:
        self._kv = kv

    async def add(self, tool: CustomTool) -> None:
        """Register ``tool``, replacing any tool of the same name."""
        await self._kv.put(NAMESPACE, tool.name, tool.to_document())

    async def get(self, name: str) -> CustomTool | None:
        doc = await self._kv.get(NAMESPACE, name)
        return CustomTool.from_document(doc) if doc is not None else None

    async def remove(self, name: str) -> bool:
        return await self._kv.delete(NAMESPACE, name)

    async def all(self) -> list[CustomTool]:
        return [CustomTool.from_document(doc) for _, doc in await self._kv.list(NAMESPACE)]


async def register_tool(kv: KeyValueStore, spec: str) -> CustomTool:
    """``mnemo tools add FILE[:FUNC]``: read the tool (without running it) and store it.

    Raises ``ToolDefinitionError`` with a fixable message when the file cannot be a tool.
    """
    path, function = split_tool_spec(spec)
    tool = await asyncio.to_thread(load_tool, path, function)
    await ToolRegistry(kv).add(tool)
    return tool
