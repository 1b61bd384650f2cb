"""A non-streamed chat completion is read from its JSON as servers actually send it."""

from __future__ import annotations

import json

import pytest

from engine.llm_answer import ModelAnswer, UnreadableAnswer, read_completion
from engine.records import ToolCall


def body(**fields: object) -> bytes:
    return json.dumps(fields).encode()


def test_tool_calls_text_model_and_usage_are_read() -> None:
    raw = body(
        model="gpt-4o-mini",
        choices=[
            {
                "message": {
                    "role": "assistant",
                    "content": "thinking",
                    "tool_calls": [
                        {
                            "id": "c1",
                            "type": "function",
                            "function": {"name": "send_message", "arguments": '{"message":"hi"}'},
                        }
                    ],
                }
            }
        ],
        usage={"prompt_tokens": 120, "completion_tokens": 7},
    )
    assert read_completion(raw) == ModelAnswer(
        (ToolCall("c1", "send_message", '{"message":"hi"}'),), "thinking", "gpt-4o-mini", 120, 7
    )


def test_fields_a_local_server_leaves_out_or_nulls_read_as_absent() -> None:
    raw = body(
        choices=[
            {
                "message": {
                    "content": None,
                    "tool_calls": [
                        {"function": {"name": "no_reply", "arguments": {"why": "busy"}}},
                        {"type": "function", "function": {"name": None}},
                    ],
                }
            }
        ],
        usage=None,
    )
    answer = read_completion(raw)
    assert answer.calls == (ToolCall("call_0", "no_reply", '{"why": "busy"}'),)
    assert (answer.content, answer.model, answer.prompt_tokens) == (None, "", 0)


def test_an_answer_without_choices_has_no_calls_and_no_text() -> None:
    answer = read_completion(body(model="m", choices=[]))
    assert (answer.calls, answer.content, answer.model) == ((), None, "m")


@pytest.mark.parametrize("raw", [b"<html>Bad Gateway</html>", b"[1, 2]", b""])
def test_a_body_that_is_not_a_completion_is_unreadable(raw: bytes) -> None:
    with pytest.raises(UnreadableAnswer):
        read_completion(raw)
