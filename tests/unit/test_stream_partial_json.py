"""The reply's text is read out of a tool call's JSON arguments while they arrive in pieces."""

from __future__ import annotations

import json
import random

import pytest

from engine.partial_json import StringFieldReader

TRICKY = [
    "plain words",
    'quotes " and \\ backslashes / slashes',
    "lines\nand\ttabs\r\n\b\f",
    "emoji 😀 and accents é and CJK 記憶",
    "",
    '{not: json}, [brackets] "message": fake',
]


def read_in_pieces(arguments: str, cuts: list[int]) -> str:
    reader = StringFieldReader("message")
    out: list[str] = []
    start = 0
    for cut in [*sorted(cuts), len(arguments)]:
        out.append(reader.feed(arguments[start:cut]))
        start = cut
    return "".join(out)


@pytest.mark.parametrize("ensure_ascii", [True, False])
@pytest.mark.parametrize("text", TRICKY)
def test_every_split_of_the_arguments_yields_the_message_exactly(
    text: str, ensure_ascii: bool
) -> None:
    arguments = json.dumps(
        {"before": {"message": "nested, not this", "n": [1, "x"]}, "message": text, "after": "z"},
        ensure_ascii=ensure_ascii,
    )
    rng = random.Random(7)
    for _ in range(200):
        cuts = rng.sample(range(len(arguments)), k=min(len(arguments), rng.randint(0, 40)))
        assert read_in_pieces(arguments, cuts) == text
    # One character at a time: every escape and surrogate pair is cut somewhere.
    assert read_in_pieces(arguments, list(range(len(arguments)))) == text


def test_text_arrives_as_soon_as_its_characters_do() -> None:
    reader = StringFieldReader("message")
    assert reader.feed('{"mess') == ""
    assert reader.feed('age": "Hel') == "Hel"
    assert reader.feed("lo\\") == "lo"
    assert reader.feed("n wor") == "\n wor"
    assert not reader.done
    assert reader.feed('ld", "x": "ignored"}') == "ld"
    assert reader.done


def test_other_fields_and_keys_named_like_the_field_inside_values_are_skipped() -> None:
    reader = StringFieldReader("message")
    assert reader.feed('{"label": "message", "content": "message: no"}') == ""
    assert not reader.done
