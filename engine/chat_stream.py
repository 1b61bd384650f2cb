"""Reading a streamed chat completion: the tool calls assembled from their deltas, and a
listener told of each call's arguments as they arrive (so a reply can be shown while the model
is still writing it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from openai import AsyncStream
from openai.types.chat import ChatCompletionChunk

from engine.llm_answer import ModelAnswer
from engine.records import ToolCall


class StreamListener(Protocol):
    """Hears one model step as it is written. Called inside the read loop: each method must
    return at once (queue the work, never wait on I/O)."""

    def call_started(self, position: int, name: str) -> None:
        """The step's tool call at ``position`` calls ``name``."""

    def arguments_arrived(self, position: int, fragment: str) -> None:
        """More of that call's JSON arguments, in order."""

    def finished(self) -> None:
        """The answer is complete."""

    def abandoned(self) -> None:
        """The answer broke off; the step will be asked again or fail, so what was heard may
        be replaced."""


@dataclass(slots=True)
class _CallParts:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)
    announced: bool = False


async def read_answer(
    stream: AsyncStream[ChatCompletionChunk], listener: StreamListener
) -> ModelAnswer:
    """Read ``stream`` to its end, telling ``listener`` of each call as it arrives."""
    calls: dict[int, _CallParts] = {}
    content: list[str] = []
    model = ""
    prompt_tokens = completion_tokens = 0
    try:
        async for chunk in stream:
            model = chunk.model or model
            if chunk.usage is not None:
                prompt_tokens = chunk.usage.prompt_tokens
                completion_tokens = chunk.usage.completion_tokens
            if not chunk.choices:
                continue
            delta = chunk.choices[0].delta
            if delta.content:
                content.append(delta.content)
            for call in delta.tool_calls or ():
                parts = calls.setdefault(call.index, _CallParts())
                parts.id = call.id or parts.id
                function = call.function
                if function is None:
                    continue
                parts.name += function.name or ""
                if function.arguments:
                    parts.arguments.append(function.arguments)
                if parts.name and not parts.announced:
                    # Arguments that came before the whole name are told along with it.
                    parts.announced = True
                    listener.call_started(call.index, parts.name)
                    if parts.arguments:
                        listener.arguments_arrived(call.index, "".join(parts.arguments))
                elif parts.announced and function.arguments:
                    listener.arguments_arrived(call.index, function.arguments)
    except BaseException:
        listener.abandoned()
        raise
    listener.finished()
    assembled = tuple(
        ToolCall(parts.id or f"call_{position}", parts.name, "".join(parts.arguments))
        for position, parts in sorted(calls.items())
        if parts.name
    )
    text = "".join(content) if content else None
    return ModelAnswer(assembled, text, model, prompt_tokens, completion_tokens)
