"""Token counts match tiktoken's reference values, from shipped files, with no network."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from engine.tokens import (
    PIECEWISE_FROM,
    TOKENS_PER_MESSAGE,
    TOKENS_PER_NAME,
    TokenCounter,
    encoding_name_for_model,
)
from tests.token_accounting import REPLY_PRIMING, request_tokens


@pytest.mark.parametrize(
    ("model", "text", "tokens"),
    [
        ("gpt-4o", "hello world", [24912, 2375]),
        ("gpt-4", "hello world", [15339, 1917]),
        ("gpt-3.5-turbo", "tiktoken is great!", [83, 1609, 5963, 374, 2294, 0]),
    ],
)
def test_encodings_reproduce_tiktoken_reference_tokens(
    model: str, text: str, tokens: list[int]
) -> None:
    counter = TokenCounter(model)

    assert counter.encoding.encode(text) == tokens
    assert counter.count(text) == len(tokens)


@pytest.mark.parametrize(
    ("model", "encoding"),
    [
        ("gpt-4o", "o200k_base"),
        ("gpt-4o-mini-2024-07-18", "o200k_base"),
        ("gpt-4.1-nano", "o200k_base"),
        ("gpt-5", "o200k_base"),
        ("o3-mini", "o200k_base"),
        ("openai/gpt-4o", "o200k_base"),
        ("gpt-oss-20b", "o200k_base"),
        ("gpt-4-0613", "cl100k_base"),
        ("gpt-3.5-turbo", "cl100k_base"),
        ("text-davinci-003", "cl100k_base"),
        ("llama3.1:8b", "o200k_base"),
    ],
)
def test_models_map_to_shipped_encodings(model: str, encoding: str) -> None:
    assert encoding_name_for_model(model) == encoding


def test_special_token_text_in_user_input_is_counted_as_plain_text() -> None:
    assert TokenCounter("gpt-4o").count("<|endoftext|>") > 1


def test_message_count_follows_openais_framing() -> None:
    counter = TokenCounter("gpt-4o")
    messages = [
        {"role": "system", "content": "You are Mnemo."},
        {"role": "user", "name": "alice", "content": "hello world"},
    ]

    framed = (
        2 * TOKENS_PER_MESSAGE
        + TOKENS_PER_NAME
        + sum(counter.count(v) for m in messages for v in m.values())
    )
    assert sum(counter.count_message(m) for m in messages) == framed
    assert request_tokens(counter, messages) == framed + REPLY_PRIMING


def test_tool_call_arguments_and_tool_schemas_are_counted() -> None:
    counter = TokenCounter("gpt-4o")
    arguments = json.dumps({"message": "a long reply " * 20})
    call = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "c1",
                "type": "function",
                "function": {"name": "send_message", "arguments": arguments},
            }
        ],
    }
    tool = {
        "type": "function",
        "function": {
            "name": "send_message",
            "description": "Send a message to the user.",
            "parameters": {"type": "object", "properties": {"message": {"type": "string"}}},
        },
    }

    assert counter.count_message(call) > counter.count(arguments)
    assert counter.count_tools([tool]) > counter.count("Send a message to the user.")
    assert request_tokens(counter, [call], [tool]) == (
        counter.count_message(call) + REPLY_PRIMING + counter.count_tools([tool])
    )


def test_content_parts_count_their_text() -> None:
    counter = TokenCounter("gpt-4o")
    parts = {"role": "user", "content": [{"type": "text", "text": "hello world"}]}

    assert counter.count_message(parts) == TOKENS_PER_MESSAGE + 1 + 2  # "user" + "hello world"


_OFFLINE_SCRIPT = """
import socket
def refuse(*args, **kwargs):
    raise AssertionError("network access attempted")
socket.socket.connect = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse
from engine.tokens import TokenCounter
print(TokenCounter("gpt-4o").count("hello world"), TokenCounter("gpt-4").count("hello world"))
"""


def test_encodings_load_with_no_network_and_an_empty_cache(tmp_path: Path) -> None:
    env = {**os.environ, "TIKTOKEN_CACHE_DIR": str(tmp_path), "DATA_GYM_CACHE_DIR": str(tmp_path)}

    result = subprocess.run(
        [sys.executable, "-c", _OFFLINE_SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["2", "2"]
    assert list(tmp_path.iterdir()) == []


def test_a_counter_counts_with_its_models_encoding() -> None:
    assert TokenCounter("gpt-5-mini").encoding.name == "o200k_base"
    assert TokenCounter("gpt-4").encoding.name == "cl100k_base"


#: Fragments around line breaks that pre-tokenisers treat specially: contractions, slashes
#: and punctuation runs after breaks, breaks after spaces, non-Latin letters, marks, digits.
_FRAGMENTS = (
    "\n",
    "\n\n",
    "\r\n",
    " \n",
    "\n ",
    "\t",
    "  ",
    "/",
    "//",
    ".",
    "...",
    "!?",
    "'s",
    "'LL",
    "<persona>",
    "</persona>",
    "- ",
    "# ",
    "123",
    "4567",
    "word",
    "Word",
    "WORD",
    "é",
    "ü",
    "\u0301",
    "日本語",
    "привет",
    "🙂",
    "\u00a0",
    "\u2028",
    "\x1c",
    "(",
    ")",
    '"',
    ":",
    "_x",
)


@pytest.mark.parametrize("model", ["gpt-4o", "gpt-4"])
def test_long_texts_counted_line_by_line_match_the_whole_encoding(model: str) -> None:
    counter = TokenCounter(model)
    rng = random.Random(7)
    for _ in range(300):
        text = ""
        while len(text) < PIECEWISE_FROM * 2:
            text += rng.choice(_FRAGMENTS)
        assert counter.count(text) == len(counter.encoding.encode_ordinary(text)), repr(text)


def test_a_long_prompt_changed_in_one_line_is_counted_exactly() -> None:
    counter = TokenCounter("gpt-4o")
    lines = [f"- fact {i}: the release of version {i} went out on a Tuesday." for i in range(80)]
    before = "\n".join(lines)
    after = "\n".join([*lines[:40], "- fact 40: it moved/slipped to Friday!", *lines[41:]])
    for text in (before, after):
        assert counter.count(text) == len(counter.encoding.encode_ordinary(text))
