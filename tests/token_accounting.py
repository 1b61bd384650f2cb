"""What a chat request costs as sent, by OpenAI's accounting: the yardstick budget tests hold
compiled requests to (the engine counts messages and tools; the reply priming is the model's)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from engine.tokens import TokenCounter

#: Every reply is primed with 3 tokens (<|start|>assistant<|message|>).
REPLY_PRIMING = 3


def request_tokens(
    counter: TokenCounter,
    messages: Iterable[Mapping[str, Any]],
    tools: Iterable[Mapping[str, Any]] = (),
) -> int:
    """Tokens of a whole chat-completions request: its messages, the reply priming, its tools."""
    return (
        sum(counter.count_message(m) for m in messages) + REPLY_PRIMING + counter.count_tools(tools)
    )
