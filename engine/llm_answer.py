"""A model's answer to one step, read from the chat-completions JSON as the server sent it.

Only the fields a step uses are read (the first choice's tool calls and text, the model and
the token usage), and a field a server leaves out or sets to null reads as absent: local
servers differ in what they fill in.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from engine.records import ToolCall


@dataclass(frozen=True, slots=True)
class ModelAnswer:
    """One step's answer: its tool calls, any text, the model and what it cost."""

    calls: tuple[ToolCall, ...]
    content: str | None
    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0


class UnreadableAnswer(ValueError):
    """The server answered 200 with a body that is not a chat completion."""


def read_completion(raw: bytes) -> ModelAnswer:
    """The answer in a (non-streamed) chat-completions response body."""
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise UnreadableAnswer(f"not JSON: {raw[:80]!r}") from exc
    if not isinstance(data, dict):
        raise UnreadableAnswer(f"not a JSON object: {raw[:80]!r}")
    usage = _mapping(data.get("usage"))
    choices = data.get("choices") or []
    first = _mapping(choices[0]) if isinstance(choices, list) and choices else {}
    message = _mapping(first.get("message"))
    calls: list[ToolCall] = []
    for listed in message.get("tool_calls") or ():
        call = _mapping(listed)
        function = _mapping(call.get("function"))
        if call.get("type", "function") == "function" and function.get("name"):
            arguments = function.get("arguments")
            calls.append(
                ToolCall(
                    str(call.get("id") or f"call_{len(calls)}"),
                    str(function["name"]),
                    arguments if isinstance(arguments, str) else json.dumps(arguments or {}),
                )
            )
    content = message.get("content")
    return ModelAnswer(
        tuple(calls),
        content if isinstance(content, str) else None,
        str(data.get("model") or ""),
        int(usage.get("prompt_tokens") or 0),
        int(usage.get("completion_tokens") or 0),
    )


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
