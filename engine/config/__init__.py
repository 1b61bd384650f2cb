"""Declared configuration: the agents file, and changes to agents while they run."""

from engine.config.agents_file import (
    AgentDefinition,
    AgentsFile,
    AgentsFileError,
    PlatformSpec,
    parse_agents_file,
    read_agents_file,
)
from engine.config.changes import (
    AgentChangeError,
    ApplyReport,
    apply_agents_file,
    attach_tool,
    detach_tool,
)
from engine.config.peers import peer_agents

__all__ = [
    "AgentChangeError",
    "AgentDefinition",
    "AgentsFile",
    "AgentsFileError",
    "ApplyReport",
    "PlatformSpec",
    "apply_agents_file",
    "attach_tool",
    "detach_tool",
    "parse_agents_file",
    "peer_agents",
    "read_agents_file",
]
