"""A forget's report, said in words: every kind it counts, one and many."""

from __future__ import annotations

from dataclasses import fields

from bot.terminal_text import forget_summary
from engine import ForgetReport, render_forget


def test_every_kind_removed_is_said() -> None:
    everything = ForgetReport(**{f.name: 2 for f in fields(ForgetReport)})
    said = render_forget(everything)
    assert said.count(", ") == len(fields(ForgetReport)) - 1
    assert said.startswith("2 messages, 2 messages of mine redacted, 2 notes")
    assert everything.total == 2 * len(fields(ForgetReport))


def test_one_of_a_kind_is_said_in_the_singular_and_nothing_is_nothing() -> None:
    assert render_forget(ForgetReport(block_lines=1, mail=3)) == (
        "1 line of my notes, 3 messages to other agents"
    )
    assert render_forget(ForgetReport()) == "nothing"


def test_the_cli_says_what_was_forgotten() -> None:
    said = forget_summary("quinn", "console:local", ForgetReport(messages=4, summaries=1))
    assert said == "Forgot quinn in console:local: removed 4 messages, 1 conversation summary."
