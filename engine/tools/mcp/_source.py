"""What the rest of Mnemo holds of the MCP servers it started, without loading the SDK."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from engine.records import Agent
from engine.tools.base import Tool


class McpToolSource(Protocol):
    """The running servers' tools: offered to agents (a ``ToolProvider``), listed for people."""

    async def tools_for(self, agent: Agent) -> Mapping[str, Tool]: ...

    def server_tools(self, server: str) -> Mapping[str, Tool]:
        """The server's tools by namespaced name, as last listed."""

    def problem(self, server: str) -> str:
        """Why the server is not connected ('' while it is)."""

    async def aclose(self) -> None: ...
