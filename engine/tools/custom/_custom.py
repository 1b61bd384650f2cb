"""A custom tool: a Python function the agent may call, run only inside the sandbox."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class CustomTool:
    """Everything needed to offer a tool to the model and run it, without importing its code.

    ``source`` is the file's text as it was loaded, so a tool runs the same on every replica
    and after its file changes; ``origin`` is where it came from, for people.
    """

    name: str
    description: str
    #: JSON schema of the arguments (an object schema), derived from the signature.
    parameters: Mapping[str, Any]
    source: str
    function: str
    origin: str = ""
    #: Parameters annotated with an Enum class: name -> class name (converted in the sandbox).
    enums: Mapping[str, str] = field(default_factory=dict)
    #: Bumped by the registry at every write (compare-and-set); 0 until registered.
    version: int = 0

    def schema(self) -> dict[str, Any]:
        """The OpenAI-style function schema the model sees."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": dict(self.parameters),
            },
        }
