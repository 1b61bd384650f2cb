"""Custom tools: Python functions read (never run) here, offered to the model by their schema,
and executed only inside ``engine.tools.sandbox``."""

from engine.tools.custom._arguments import argument_problems
from engine.tools.custom._custom import CustomTool
from engine.tools.custom._loading import (
    ToolDefinitionError,
    load_tool,
    split_tool_spec,
    tool_from_source,
)
from engine.tools.custom._registry import ToolRegistry, register_tool

__all__ = [
    "CustomTool",
    "ToolDefinitionError",
    "ToolRegistry",
    "argument_problems",
    "load_tool",
    "register_tool",
    "split_tool_spec",
    "tool_from_source",
]
