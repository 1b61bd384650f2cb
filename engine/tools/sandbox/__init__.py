"""Running custom tools in confined processes: time, memory, CPU, output, network and file
limits, with a pipe back to the calling agent's memory."""

from engine.tools.sandbox._agent_tool import RegisteredTools, SandboxedTool, TurnMemoryBridge
from engine.tools.sandbox._bridge import MemoryBridge, MemoryRefused
from engine.tools.sandbox._limits import SandboxLimits
from engine.tools.sandbox._sandbox import Sandbox, SandboxOutcome

__all__ = [
    "MemoryBridge",
    "MemoryRefused",
    "RegisteredTools",
    "Sandbox",
    "SandboxLimits",
    "SandboxOutcome",
    "SandboxedTool",
    "TurnMemoryBridge",
]
