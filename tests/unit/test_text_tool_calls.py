"""Tool calls that small models write as text: read when they name an offered tool, and
recognised as calls (never replies) when they cannot be read."""

from __future__ import annotations

import json

import pytest

from engine.text_tool_calls import looks_like_tool_call, parse_text_tool_calls

OFFERED = {"send_message", "core_memory_append"}
HI = {"message": "hi"}


def read(text: str) -> list[tuple[str, object]]:
    return [(c.name, json.loads(c.arguments)) for c in parse_text_tool_calls(text, OFFERED)]


@pytest.mark.parametrize(
    "text",
    [
        '<tool_call>\n{"name": "send_message", "arguments": {"message": "hi"}}\n</tool_call>',
        '<tool_call>{"name": "send_message", "arguments": {"message": "hi"}}',
        '{"name": "send_message", "arguments": {"message": "hi"}}',
        '{"name": "send_message", "parameters": {"message": "hi"}}',
        '{"name": "send_message", "arguments": "{\\"message\\": \\"hi\\"}"}',
        '{"type": "function", "function": {"name": "send_message", "arguments": HI_JSON}}',
        '{"send_message": {"message": "hi"}}',
        'Sure.\n```json\n{"name": "send_message", "arguments": {"message": "hi"}}\n```',
        '[{"name": "send_message", "arguments": {"message": "hi"}}]',
    ],
)
def test_one_written_call_is_read(text: str) -> None:
    text = text.replace("HI_JSON", json.dumps(HI))
    assert read(text) == [("send_message", HI)]
    assert looks_like_tool_call(text) or text.startswith('{"send_message"')


def test_several_calls_are_read_in_order_with_distinct_ids() -> None:
    text = (
        '<tool_call>{"name": "core_memory_append", "arguments": {"label": "human", '
        '"content": "Keeps bees."}}</tool_call>\n'
        '<tool_call>{"name": "send_message", "arguments": {"message": "hi"}}</tool_call>'
    )
    calls = parse_text_tool_calls(text, OFFERED)
    assert [c.name for c in calls] == ["core_memory_append", "send_message"]
    assert len({c.id for c in calls}) == 2


@pytest.mark.parametrize(
    "text",
    [
        '{"name": "web_search", "arguments": {"q": "x"}}',
        '<tool_call>{"name": "send_message", "arguments": {"message": "h',
        '{"name": "send_message", "arguments": ["hi"]}',
    ],
)
def test_calls_that_cannot_be_run_are_not_read_but_look_like_calls(text: str) -> None:
    assert read(text) == []
    assert looks_like_tool_call(text)


@pytest.mark.parametrize(
    "text",
    [
        "Sure, I can help with that.",
        'Use {"a": 1} as the config, then restart.',
        "The set {1, 2, 3} has three elements.",
    ],
)
def test_prose_is_neither_read_nor_taken_for_a_call(text: str) -> None:
    assert read(text) == []
    assert not looks_like_tool_call(text)
