"""The words both stores' full-text search looks for."""

from __future__ import annotations

from engine.text import MAX_TERMS, search_words


def test_words_are_lowercased_distinct_and_free_of_syntax() -> None:
    assert search_words('Where is "Ada" -NOT ada\'s (office)?') == ["ada", "s", "office"]


def test_common_words_are_kept_only_when_nothing_else_is_asked() -> None:
    assert search_words("what is the plan") == ["plan"]
    assert search_words("who are you") == ["who", "are", "you"]


def test_a_long_question_is_cut_to_the_first_words() -> None:
    words = [f"w{i}" for i in range(MAX_TERMS + 5)]
    assert search_words(" ".join(words)) == words[:MAX_TERMS]
