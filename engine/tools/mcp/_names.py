"""Tool names as the model sees them: ``server__tool``, unique, within what every
OpenAI-compatible endpoint accepts (letters, digits, ``_`` and ``-``; at most 64)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

from engine.tools.base import EVERY_TOOL_OF

SEPARATOR = "__"
MAX_NAME = 64
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def every_tool_of(server: str) -> str:
    """The agent-tools entry that attaches all of ``server``'s tools."""
    return f"{server}{EVERY_TOOL_OF}"


def server_of(name: str) -> str:
    """The server part of a namespaced tool name ('' when it is not one)."""
    server, separator, _ = name.partition(SEPARATOR)
    return server if separator else ""


def namespaced_names(server: str, tools: Iterable[str]) -> dict[str, str]:
    """Each of the server's tool names -> the name the model sees, unique among them.

    Characters the model may not use become ``_``; a name too long, or one that collides after
    that, ends in a short hash of the original, so the same listing always gives the same names.
    """
    names: dict[str, str] = {}
    taken: set[str] = set()
    for tool in sorted(set(tools)):
        name = f"{server}{SEPARATOR}{_UNSAFE.sub('_', tool)}"
        if len(name) > MAX_NAME or name in taken:
            digest = hashlib.sha256(tool.encode()).hexdigest()[:8]
            name = f"{name[: MAX_NAME - len(digest) - 1]}_{digest}"
        names[tool] = name
        taken.add(name)
    return names
