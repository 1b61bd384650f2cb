"""MCP servers as a tool source: servers declared by operators (``_servers``), kept in the
store (``_registry``), held in warm sessions (``_connection``) and offered to agents under
namespaced names (``_names``, ``_tool``, ``_provider``) on the one tool loop."""

from engine.tools.mcp._connection import McpCallError, McpConnection
from engine.tools.mcp._names import every_tool_of, namespaced_names, server_of
from engine.tools.mcp._provider import McpTools
from engine.tools.mcp._registry import McpServerRegistry, RegisteredServer
from engine.tools.mcp._servers import McpServerError, McpServerSpec
from engine.tools.mcp._tool import McpTool, capped, render_result, schema_problem

__all__ = [
    "McpCallError",
    "McpConnection",
    "McpServerError",
    "McpServerRegistry",
    "McpServerSpec",
    "McpTool",
    "McpTools",
    "RegisteredServer",
    "capped",
    "every_tool_of",
    "namespaced_names",
    "render_result",
    "schema_problem",
    "server_of",
]
