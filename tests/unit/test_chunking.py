"""Splitting replies to a platform's length limit without breaking code blocks."""

from __future__ import annotations

import pytest

from adapters.chunking import split_message


def _fences_balanced(chunk: str) -> bool:
    return sum(1 for line in chunk.split("\n") if line.strip().startswith("```")) % 2 == 0


def test_short_text_is_one_chunk() -> None:
    assert split_message("hello there", 100) == ["hello there"]


def test_blank_text_gives_no_chunks() -> None:
    assert split_message("  \n\n ", 100) == []


def test_limit_too_small_is_refused() -> None:
    with pytest.raises(ValueError, match="too small"):
        split_message("text", 10)


def test_every_chunk_fits_and_no_word_is_lost() -> None:
    words = [f"word{i}" for i in range(2_000)]
    text = " ".join(words)
    chunks = split_message(text, 200)
    assert all(len(c) <= 200 for c in chunks)
    assert " ".join(chunks).split() == words


def test_prefers_paragraph_boundaries() -> None:
    first = "a" * 60
    second = "b " * 40
    chunks = split_message(f"{first}\n\n{second.strip()}", 100)
    assert chunks[0] == first
    assert chunks[1].startswith("b b")


def test_prefers_line_over_word_boundaries() -> None:
    text = "alpha beta gamma delta epsilon zeta\n" + "x " * 30
    chunks = split_message(text, 64)
    assert chunks[0] == "alpha beta gamma delta epsilon zeta"


def test_word_without_spaces_is_cut_hard() -> None:
    text = "z" * 250
    chunks = split_message(text, 100)
    assert all(len(c) <= 100 for c in chunks)
    assert "".join(chunks) == text


def test_code_block_cut_in_two_is_closed_and_reopened_with_its_language() -> None:
    code = "\n".join(f"print({i})" for i in range(60))
    text = f"Here you go:\n\n```python\n{code}\n```\n\nThat's all."
    chunks = split_message(text, 150)
    assert len(chunks) > 2
    assert all(len(c) <= 150 for c in chunks)
    assert all(_fences_balanced(c) for c in chunks)
    inner = [c for c in chunks[1:] if "print(" in c]
    assert all(c.startswith("```python\n") for c in inner)
    printed = [line for c in chunks for line in c.split("\n") if line.startswith("print(")]
    assert printed == [f"print({i})" for i in range(60)]
    assert chunks[-1].endswith("That's all.")


def test_inline_triple_backticks_do_not_open_a_block() -> None:
    text = "use ```x``` inline. " * 30
    chunks = split_message(text, 120)
    assert " ".join(chunks).split() == text.split()


def test_text_after_a_closed_block_is_not_fenced() -> None:
    text = "```\ncode\n```\n\n" + "plain words " * 40
    chunks = split_message(text, 100)
    assert chunks[0].startswith("```\ncode\n```")
    assert not any(c.startswith("```") for c in chunks[1:])


def test_ten_thousand_characters_split_at_slack_limit() -> None:
    paragraph = ("Mnemo remembers what matters. " * 10).strip()
    text = "\n\n".join([paragraph] * 40)[:10_000]
    chunks = split_message(text, 4_000)
    assert len(chunks) == 3
    assert all(len(c) <= 4_000 for c in chunks)
    assert "".join(chunks).replace("\n", "") == text.replace("\n", "")
