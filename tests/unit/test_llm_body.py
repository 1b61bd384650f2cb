"""Request bodies joined from remembered pieces are the JSON the whole body encodes to."""

from __future__ import annotations

import json
from typing import Any

from engine.llm_body import BodyEncoder


def whole(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def test_bodies_sharing_messages_encode_as_the_whole_body_would() -> None:
    encoder = BodyEncoder(size=3)
    tool = {"type": "function", "function": {"name": "send_message", "parameters": {}}}
    history = [{"role": "user", "content": f"message {i}: café 🙂"} for i in range(5)]
    for turn in range(4):
        body = {
            "model": "gpt-4o",
            "messages": [{"role": "system", "content": f"turn {turn}"}, *history[: turn + 2]],
            "tools": [tool],
            "tool_choice": "required",
            "max_tokens": 512,
        }
        assert encoder.encode(body) == whole(body)
        assert json.loads(encoder.encode(body)) == body


def test_a_new_message_is_never_taken_for_a_forgotten_one() -> None:
    encoder = BodyEncoder(size=1)
    for i in range(50):
        body = {"model": "m", "messages": [{"role": "user", "content": str(i)}]}
        assert encoder.encode(body) == whole(body)
