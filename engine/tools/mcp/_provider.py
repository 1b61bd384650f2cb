"""The tools of every configured MCP server, offered to the agents that attach them.

An agent attaches one tool by its namespaced name (``github__create_issue``) or every tool of a
server (``github__*``). Sessions start with the bot and stay warm; each server's tools are
rebuilt whenever its listing changes, so offering them costs a turn no I/O.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

from engine.records import Agent
from engine.tools.base import Tool
from engine.tools.mcp._connection import RETRY_AFTER, START_TIMEOUT, McpConnection
from engine.tools.mcp._names import every_tool_of, namespaced_names, server_of
from engine.tools.mcp._servers import McpServerSpec
from engine.tools.mcp._tool import McpTool


class McpTools:
    """An ``McpToolSource`` (and so a ``ToolProvider``) over a set of MCP servers."""

    def __init__(
        self,
        servers: Sequence[McpServerSpec],
        environ: Mapping[str, str],
        *,
        start_timeout: float = START_TIMEOUT,
        retry_after: float = RETRY_AFTER,
    ) -> None:
        self._tools: dict[str, dict[str, McpTool]] = {}
        self.connections: dict[str, McpConnection] = {
            spec.name: McpConnection(
                spec,
                environ,
                start_timeout=start_timeout,
                retry_after=retry_after,
                on_listing=self._relist,
            )
            for spec in servers
        }

    async def start(self) -> None:
        """Start every server at once; a server that fails is reported, not fatal."""
        await asyncio.gather(*(c.start() for c in self.connections.values()))

    async def aclose(self) -> None:
        await asyncio.gather(*(c.aclose() for c in self.connections.values()))

    def server_tools(self, server: str) -> Mapping[str, McpTool]:
        """The server's tools by namespaced name, as last listed."""
        return self._tools.get(server, {})

    def problem(self, server: str) -> str:
        connection = self.connections.get(server)
        return connection.problem if connection is not None else "not configured"

    async def tools_for(self, agent: Agent) -> Mapping[str, Tool]:
        found: dict[str, Tool] = {}
        for entry in agent.tools:
            connection = self.connections.get(server_of(entry))
            if connection is None:
                continue
            if not connection.connected:
                connection.revive()
            tools = self.server_tools(connection.spec.name)
            if entry == every_tool_of(connection.spec.name):
                found.update(tools)
            elif entry in tools:
                found[entry] = tools[entry]
            elif not connection.connected:
                # Named, but its server is down: offered so a call says why it cannot run.
                found[entry] = McpTool(entry, connection, unavailable=self._down(connection))
        return found

    def _relist(self, connection: McpConnection) -> None:
        names = namespaced_names(connection.spec.name, (t.name for t in connection.tools))
        self._tools[connection.spec.name] = {
            names[tool.name]: McpTool(names[tool.name], connection, tool)
            for tool in connection.tools
        }

    @staticmethod
    def _down(connection: McpConnection) -> str:
        return f"its MCP server {connection.spec.name!r} is not running ({connection.problem})"
