"""The attribution rule: which sources a run's writes get, and how derived sources flatten."""

from __future__ import annotations

from dataclasses import replace

from engine.agent.memory import BlockView
from engine.agent.provenance import Provenance, message_text
from engine.records import Message, Role, ToolCall
from engine.store.lineage import Derived, block_line_id, links, links_of
from engine.store.protocol import Store
from engine.text import distinctive_words
from tests.contract.conftest import backend, store
from tests.contract.records import block, message

WS = "W1"


#: The lookups of stored sources run on both stores.
__all__ = ["backend", "store"]


def said(message_id: str, text: str, *, role: Role = Role.USER, calls: str = "") -> Message:
    tool_calls = (ToolCall("call-1", "core_memory_append", calls),) if calls else ()
    return replace(message(text, role=role), id=message_id, tool_calls=tool_calls)


def view(block_id: str, value: str) -> BlockView:
    part = replace(block("channel", value), id=block_id)
    return BlockView("channel", part.owner, "", "general", (part,), 2000)


def test_words_of_everyday_talk_tie_no_text_to_another() -> None:
    assert distinctive_words("Thanks, sure, I'll tell you more about it") == set()


def test_distinctive_words_leave_out_stopwords_and_short_words_but_keep_numbers() -> None:
    assert distinctive_words("The cat is in a box on 3 May, at 9:40") == {
        "cat",
        "box",
        "may",
        "3",
        "9",
        "40",
    }


def test_a_tool_calls_values_are_what_its_message_says_not_its_field_names() -> None:
    message = said("m1", "", role=Role.ASSISTANT, calls='{"label": "human", "content": "Tea"}')
    assert message_text(message) == "human\nTea"


def test_text_is_derived_from_inputs_found_records_and_what_in_the_window_shares_a_word() -> None:
    provenance = Provenance()
    provenance.read(["in-1"])
    provenance.found(Derived.PASSAGE, ["p-1"])
    provenance.see(
        [said("m-axolotl", "I keep an axolotl"), said("m-lunch", "lunch at noon?")],
        [view("b1", "Standup at 9:40\nThe usual place")],
        "conv",
        "Earlier: Quetzal was adopted.",
    )
    assert provenance.sources_of("Alice's axolotl Quetzal") == {
        (None, "in-1"),
        (Derived.PASSAGE, "p-1"),
        (None, "m-axolotl"),
        (None, "conv"),
    }
    # Only stopwords and short words in common: nothing from the window.
    assert provenance.sources_of("it is at the") == {(None, "in-1"), (Derived.PASSAGE, "p-1")}
    assert (Derived.BLOCK_LINE, block_line_id("b1", "Standup at 9:40")) in provenance.sources_of(
        "moved from 9:40"
    )


async def test_links_flatten_the_stored_sources_of_derived_sources(store: Store) -> None:
    await store.lineage.link(
        [
            *links(Derived.PASSAGE, "p-1", ["alice-1"], WS),
            *links(Derived.MESSAGE, "mail-copy", ["carol-1"], WS),
            *links(Derived.MESSAGE, "bob-1", ["never-read"], WS),
        ]
    )
    provenance = Provenance()
    provenance.read(["bob-1"])
    provenance.read(["mail-copy"], derived=True)
    provenance.found(Derived.PASSAGE, ["p-1"])
    provenance.derive(Derived.BLOCK_LINE, "b1#x", "anything")
    written = links_of(await provenance.links(store.lineage, WS))
    assert {(link.record_id, link.source) for link in written} == {
        ("b1#x", "bob-1"),
        ("b1#x", "mail-copy"),
        ("b1#x", "carol-1"),
        ("b1#x", "p-1"),
        ("b1#x", "alice-1"),
    }


async def test_a_rewritten_line_keeps_the_sources_of_removed_lines_it_shares_a_word_with(
    store: Store,
) -> None:
    kept, moved, dropped = "Name: Alice", "Standup at 9:40", "Likes tea"
    await store.lineage.link(
        [
            *links(Derived.BLOCK_LINE, block_line_id("b1", kept), ["m-name"], WS),
            *links(Derived.BLOCK_LINE, block_line_id("b1", moved), ["m-standup"], WS),
            *links(Derived.BLOCK_LINE, block_line_id("b1", dropped), ["m-tea"], WS),
        ]
    )
    provenance = Provenance()
    provenance.read(["m-now"])
    provenance.rewrite_block("b1", f"{kept}\n{moved}\n{dropped}", f"{kept}\nStandup: 10:00")
    written = links_of(await provenance.links(store.lineage, WS))
    new_line = block_line_id("b1", "Standup: 10:00")
    # The unchanged line gets nothing new; the new one inherits only the line it rewrote.
    assert {link.record_id for link in written} == {new_line}
    assert {link.source for link in written} == {
        "m-now",
        block_line_id("b1", moved),
        "m-standup",
    }


async def test_a_record_built_on_one_written_in_the_same_run_gets_its_sources(
    store: Store,
) -> None:
    provenance = Provenance()
    provenance.read(["m-1"])
    provenance.derive(Derived.BLOCK_LINE, "b1#x", "Quetzal")
    provenance.link(Derived.MESSAGE, "reply", [(Derived.BLOCK_LINE, "b1#x")])
    written = links_of(await provenance.links(store.lineage, WS))
    assert {link.source for link in written if link.record_id == "reply"} == {"b1#x", "m-1"}
