"""The memory a sandboxed tool may use, answered by the engine for the calling turn."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class MemoryBridge(Protocol):
    """The calling agent's memory for one turn, under that turn's audience rules.

    Each method returns the text the tool receives; raise ``MemoryRefused`` with a message for
    the tool when a call cannot be done (unknown label, text not found, over the limit).
    """

    async def read(self, label: str) -> str: ...

    async def append(self, label: str, text: str) -> str: ...

    async def replace(self, label: str, old: str, new: str) -> str: ...

    async def archival_search(self, query: str) -> str: ...

    async def archival_insert(self, text: str, tags: list[str]) -> str: ...


class MemoryRefused(Exception):
    """A memory call the bridge will not do; the message reaches the tool as ``MnemoError``."""


async def answer_memory_call(
    bridge: MemoryBridge | None, method: str, args: Mapping[str, Any]
) -> str:
    """Dispatch one request from the tool; raise ``MemoryRefused`` for anything invalid."""
    if bridge is None:
        raise MemoryRefused("memory is not available here (the tool runs outside a conversation)")
    match method:
        case "read":
            return await bridge.read(_text(args, "label"))
        case "append":
            return await bridge.append(_text(args, "label"), _text(args, "text"))
        case "replace":
            return await bridge.replace(
                _text(args, "label"), _text(args, "old"), _text(args, "new")
            )
        case "archival_search":
            return await bridge.archival_search(_text(args, "query"))
        case "archival_insert":
            tags = args.get("tags") or []
            if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
                raise MemoryRefused("tags must be a list of strings")
            return await bridge.archival_insert(_text(args, "text"), tags)
    raise MemoryRefused(f"unknown memory call {method!r}")


def _text(args: Mapping[str, Any], name: str) -> str:
    value = args.get(name)
    if not isinstance(value, str):
        raise MemoryRefused(f"{name} must be a string")
    return value
