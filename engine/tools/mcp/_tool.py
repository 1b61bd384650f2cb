"""An MCP server's tool as the agent loop sees it (``engine.tools.base.Tool``).

Whatever the server does (refuses, crashes, hangs, answers megabytes, declares a schema the
model cannot use) the agent reads a tool result that says so, and the turn goes on.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import mcp_types as types

from engine.audience import Audience
from engine.progress import report_step
from engine.tools.approval import ApprovalPolicy
from engine.tools.base import ToolContext, ToolError, ToolOutcome, parse_arguments
from engine.tools.mcp._connection import McpCallError, McpConnection

#: Characters of a tool's description offered to the model.
MAX_DESCRIPTION = 1024
_ANY_OBJECT: Mapping[str, Any] = {"type": "object", "properties": {}}


class McpTool:
    """One tool of one server, under its namespaced name."""

    terminal = False

    def __init__(
        self,
        name: str,
        connection: McpConnection,
        remote: types.Tool | None = None,
        *,
        unavailable: str = "",
    ) -> None:
        """``remote`` is the server's listing of the tool; without it the tool is offered only
        to say why it cannot run (``unavailable``)."""
        self._name = name
        self._connection = connection
        self._remote = remote
        problem = schema_problem(remote.input_schema) if remote is not None else ""
        self.unavailable = unavailable or (
            f"the server declares an invalid input schema for it ({problem})" if problem else ""
        )

    @property
    def name(self) -> str:
        return self._name

    @property
    def server(self) -> str:
        return self._connection.spec.name

    def serves(self, audience: Audience) -> bool:
        return self._connection.spec.serves(audience)

    def approval_policy(self) -> ApprovalPolicy | None:
        # A tool of a server that is down is known only by its namespaced name.
        remote = self._remote.name if self._remote is not None else self._name.partition("__")[2]
        return self._connection.spec.approval_policy(remote)

    def schema(self) -> dict[str, Any]:
        remote = self._remote
        described = (remote.description or remote.title or "") if remote else ""
        if self.unavailable:
            described = f"Unavailable: {self.unavailable}. {described}"
        parameters = _ANY_OBJECT if self.unavailable or remote is None else remote.input_schema
        return {
            "type": "function",
            "function": {
                "name": self._name,
                "description": described[:MAX_DESCRIPTION],
                "parameters": dict(parameters),
            },
        }

    async def invoke(self, ctx: ToolContext, raw_arguments: str) -> ToolOutcome:
        spec = self._connection.spec
        if not self.serves(ctx.audience):
            return _error(f"{self._name} is not available in this conversation.")
        await report_step(f"asking {spec.name}…")
        remote = self._remote
        if remote is None:
            # Its server was down when the turn began: try it now (no more than once every
            # few seconds), so a server that comes up later serves this very call.
            try:
                remote = await self._connection.listed_as(self._name)
            except McpCallError as exc:
                return _error(f"{self._name} cannot be called: its MCP server {spec.name!r} {exc}.")
        elif self.unavailable:
            return _error(f"{self._name} cannot be called: {self.unavailable}.")
        try:
            arguments = parse_arguments(raw_arguments)
            result = await self._connection.call(remote.name, arguments)
        except ToolError as exc:
            return _error(str(exc))
        except McpCallError as exc:
            return _error(f"{self._name}: the MCP server {spec.name!r} {exc}.")
        text = capped(render_result(result), spec.max_output)
        if result.is_error:
            return _error(f"{self._name} failed: {text}")
        return ToolOutcome(text)


def _error(text: str) -> ToolOutcome:
    return ToolOutcome(f"Error: {text}", error=True)


def render_result(result: types.CallToolResult) -> str:
    """The result as text: text parts as they are, other parts described in a line."""
    parts = [_render_part(part) for part in result.content]
    if not parts and result.structured_content is not None:
        parts.append(json.dumps(result.structured_content, ensure_ascii=False))
    return "\n".join(parts)


def _render_part(part: types.ContentBlock) -> str:
    match part:
        case types.TextContent():
            return part.text
        case types.ImageContent() | types.AudioContent():
            return f"[{part.type}: {part.mime_type}, {len(part.data) * 3 // 4} bytes not shown]"
        case types.ResourceLink():
            return f"[resource: {part.uri}]"
        case types.EmbeddedResource():
            resource = part.resource
            if isinstance(resource, types.TextResourceContents):
                return resource.text
            return f"[resource {resource.uri}: binary, not shown]"
    return f"[{getattr(part, 'type', 'unknown')} content not shown]"


def capped(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, with a note the agent can act on."""
    if len(text) <= limit:
        return text
    return (
        f"{text[:limit]}\n[Result cut: the tool answered {len(text)} characters and only the "
        f"first {limit} are shown. Ask it for less (a narrower query or one page) to see more.]"
    )


def schema_problem(schema: Any) -> str:
    """Why ``schema`` cannot describe a function's arguments to the model ('' when it can)."""
    if not isinstance(schema, Mapping):
        return "it is not a JSON object"
    if schema.get("type", "object") != "object":
        return f"its type is {schema.get('type')!r}, not 'object'"
    properties = schema.get("properties", {})
    if not isinstance(properties, Mapping) or not all(
        isinstance(p, Mapping) for p in properties.values()
    ):
        return "its properties are not a mapping of schemas"
    required = schema.get("required", [])
    if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
        return "its required list is not a list of names"
    try:
        json.dumps(schema)
    except (TypeError, ValueError) as exc:
        return f"it is not plain JSON ({exc})"
    return ""
