"""How local OpenAI-compatible servers (llama.cpp, llama-cpp-python, vLLM, Ollama) differ from
OpenAI's API, as switches of the fake server (``FakeOpenAI(quirks=ServerQuirks(...))``)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

type CallStyle = Literal["structured", "tagged", "bare", "fenced"]


@dataclass(frozen=True, slots=True)
class ServerQuirks:
    #: How tool calls come back: as OpenAI's structured calls, or written in the answer's
    #: text by a server without a tool-call parser: ``<tool_call>`` tags (Hermes, Qwen), a
    #: bare JSON object, or a fenced ```json block.
    calls_as: CallStyle = "structured"
    #: The status answered to ``tool_choice="required"`` (llama-cpp-python: 500); None
    #: accepts it.
    required_status: int | None = None
    #: Whether a request without ``max_tokens`` is refused (400).
    requires_max_tokens: bool = False
    #: Fields of the model's ``/v1/models`` entry: ``context_length``, ``max_model_len``,
    #: ``meta`` (llama.cpp: ``{"n_ctx_train": ...}``).
    model_fields: Mapping[str, Any] = field(default_factory=dict)
    #: The id ``/v1/models`` lists (llama.cpp lists its model file, whatever name a request
    #: gives).
    model_id: str = "fake"
    #: llama.cpp's ``/props`` document; None answers 404 as other servers do.
    props: Mapping[str, Any] | None = None
    #: Seconds every chat answer takes (a model on a CPU).
    seconds_per_answer: float = 0.0
    #: Whether a streamed request is refused (400), as by a server without streaming.
    refuses_streaming: bool = False

    def refusal(self, body: Mapping[str, Any]) -> tuple[int, str] | None:
        """The status and message a request is refused with, if this server refuses it."""
        if self.required_status is not None and body.get("tool_choice") == "required":
            return self.required_status, "tool_choice 'required' failed: grammar error"
        if self.requires_max_tokens and "max_tokens" not in body:
            return 400, "max_tokens is required by this server"
        if self.refuses_streaming and body.get("stream"):
            return 400, "stream is not supported by this server"
        return None

    def models(self) -> dict[str, Any]:
        entry = {"id": self.model_id, "object": "model", "owned_by": "fake", **self.model_fields}
        return {"object": "list", "data": [entry]}


def calls_as_text(style: CallStyle, calls: Sequence[tuple[str, str]]) -> str:
    """Tool calls (name, JSON arguments) written the way ``style`` writes them."""
    objects = [
        json.dumps({"name": name, "arguments": json.loads(arguments)}) for name, arguments in calls
    ]
    match style:
        case "tagged":
            return "\n".join(f"<tool_call>\n{o}\n</tool_call>" for o in objects)
        case "fenced":
            return "Calling the tool:\n```json\n" + "\n".join(objects) + "\n```"
        case _:
            return "\n".join(objects)
