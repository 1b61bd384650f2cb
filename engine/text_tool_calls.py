"""Tool calls a model wrote as text: what small and local models do when their server does not
turn them into structured calls.

Recognised: ``<tool_call>{"name": ..., "arguments": ...}</tool_call>`` (Hermes/Qwen style), a
bare JSON object naming a tool, and either inside a fenced ```json block. Only names of tools
the step offered count; anything else that still looks like a call is reported as such, so it
never reaches a user as a reply.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterator
from typing import Any

from engine.records import ToolCall, new_id

_TAGGED = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|$)", re.DOTALL)
_FENCED = re.compile(r"```(?:json|tool_call)?\s*\n?(.*?)```", re.DOTALL)
#: Text that a reader would take for a tool call gone wrong rather than a reply: tags, or JSON
#: with a call's keys.
_CALL_SHAPED = re.compile(
    r'</?tool_call>|"(?:arguments|parameters)"\s*:|^\s*\[?\s*\{\s*"(?:name|function|tool)"\s*:'
)


#: Said to a model whose answer was a tool call written as text that could not be read.
_CORRECTION = (
    "Your last answer looked like a tool call written as text, and it could not be read. "
    "Call one of the offered tools through the tool-calling interface, with JSON arguments."
)


def correction(answer: str) -> list[dict[str, str]]:
    """Messages telling the model that ``answer`` was a tool call that could not be read."""
    return [{"role": "assistant", "content": answer}, {"role": "user", "content": _CORRECTION}]


def parse_text_tool_calls(text: str, offered: Collection[str]) -> tuple[ToolCall, ...]:
    """The calls of offered tools written in ``text``; empty when it holds none."""
    calls: list[ToolCall] = []
    for candidate in _candidates(text):
        for item in _objects(candidate):
            call = _as_call(item, offered)
            if call is not None:
                calls.append(call)
        if calls:
            return tuple(calls)
    return ()


def looks_like_tool_call(text: str) -> bool:
    """Whether ``text`` reads as a tool call (tagged, or JSON naming a function) and not prose."""
    return bool(_CALL_SHAPED.search(text))


def _candidates(text: str) -> Iterator[str]:
    """Where calls may sit: tagged sections, fenced blocks, then the whole text."""
    tagged = _TAGGED.findall(text)
    if tagged:
        yield "\n".join(tagged)
    yield from _FENCED.findall(text)
    yield text.strip()


def _objects(candidate: str) -> Iterator[Any]:
    """The JSON values in ``candidate``: one document, or several written one after another."""
    decoder = json.JSONDecoder()
    position = 0
    while True:
        start = _next_value(candidate, position)
        if start < 0:
            return
        try:
            value, position = decoder.raw_decode(candidate, start)
        except json.JSONDecodeError:
            return
        if isinstance(value, list):
            yield from value
        else:
            yield value


def _next_value(text: str, position: int) -> int:
    braces = [i for i in (text.find("{", position), text.find("[", position)) if i >= 0]
    return min(braces) if braces else -1


def _as_call(item: Any, offered: Collection[str]) -> ToolCall | None:
    """``{"name", "arguments"|"parameters"}``, ``{"function": {...}}`` or ``{tool: {...}}``."""
    if not isinstance(item, dict):
        return None
    if isinstance(item.get("function"), dict):
        item = item["function"]
    name = item.get("name", item.get("tool"))
    if isinstance(name, str):
        arguments = item.get("arguments", item.get("parameters", item.get("args", {})))
    elif len(item) == 1:
        [(name, arguments)] = item.items()
    else:
        return None
    if name not in offered:
        return None
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments)
        except json.JSONDecodeError:
            return None
    if not isinstance(arguments, dict):
        return None
    return ToolCall(f"call_{new_id()[:16]}", name, json.dumps(arguments))
