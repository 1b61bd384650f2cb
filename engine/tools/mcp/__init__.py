"""MCP servers as a tool source: servers declared by operators (``_servers``), kept in the
store (``_registry``), held in warm sessions (``_connection``) and offered to agents under
namespaced names (``_names``, ``_tool``, ``_provider``) on the one tool loop.

The SDK is imported only by ``start_mcp_tools`` (it costs tens of megabytes and seconds), so a
bot without MCP servers never loads it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from engine.tools.mcp._names import every_tool_of, namespaced_names, server_of
from engine.tools.mcp._registry import McpServerRegistry, RegisteredServer
from engine.tools.mcp._servers import SERVER_NAME, McpServerError, McpServerSpec
from engine.tools.mcp._source import McpToolSource


async def start_mcp_tools(
    servers: Sequence[McpServerSpec], environ: Mapping[str, str]
) -> McpToolSource:
    """Start a warm session with each server and list its tools; a server that fails is
    reported in its connection's ``problem``, never raised."""
    from engine.tools.mcp._provider import McpTools

    tools = McpTools(servers, environ)
    await tools.start()
    return tools


__all__ = [
    "SERVER_NAME",
    "McpServerError",
    "McpServerRegistry",
    "McpServerSpec",
    "McpToolSource",
    "RegisteredServer",
    "every_tool_of",
    "namespaced_names",
    "server_of",
    "start_mcp_tools",
]
