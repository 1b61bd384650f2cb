"""Bad input gets a clear outcome: empty texts refused, long texts cut and marked, invalid
Unicode repaired, nothing else changed."""

from __future__ import annotations

import json
from dataclasses import replace

from engine.pipeline import MAX_TEXT_BYTES, admit
from engine.records import Author, InboundKind
from tests.e2e.pipeline_doubles import inbound


def test_empty_and_blank_messages_are_refused_with_a_reason() -> None:
    for text in ("", "   \n\t"):
        admission = admit(inbound(text))
        assert admission.inbound is None
        assert "empty" in admission.reason


def test_message_with_only_an_attachment_is_accepted() -> None:
    message = replace(inbound(""), attachments=("https://files.example/cat.png",))
    assert admit(message).inbound == message


def test_deletion_without_text_is_accepted() -> None:
    deletion = replace(inbound(""), kind=InboundKind.DELETE)
    assert admit(deletion).inbound == deletion


def test_text_over_100_kb_is_cut_to_the_limit_and_marked() -> None:
    text = "é" * 80_000  # 160 KB of UTF-8
    admission = admit(inbound(text))
    assert admission.inbound is not None
    kept = admission.inbound.text
    assert len(kept.encode("utf-8")) <= MAX_TEXT_BYTES
    assert kept.startswith("é" * 1000)
    assert kept.endswith("bytes over the 100 KB limit]")
    assert admission.notes == ("text truncated",)


def test_text_at_the_limit_is_kept_whole() -> None:
    text = "a" * MAX_TEXT_BYTES
    admission = admit(inbound(text))
    assert admission.inbound is not None
    assert admission.inbound.text == text
    assert admission.notes == ()


def test_lone_surrogates_are_replaced_so_every_store_can_encode_the_text() -> None:
    broken = replace(inbound("hi \ud800 there \udfff"), author=Author("U1", "bad \udc80 name"))
    admission = admit(broken)
    assert admission.inbound is not None
    assert admission.inbound.text == "hi \ufffd there \ufffd"
    assert admission.inbound.author.name == "bad \ufffd name"
    admission.inbound.text.encode("utf-8")
    json.dumps(admission.inbound.text, ensure_ascii=False).encode("utf-8")
    assert admission.notes == ("invalid Unicode replaced",)


def test_valid_text_is_left_exactly_as_it_is() -> None:
    message = inbound("héllo 👋 <@U2> `code`")
    assert admit(message).inbound is message


def test_event_without_an_id_is_refused() -> None:
    admission = admit(replace(inbound("hi"), event_id=""))
    assert admission.inbound is None
    assert "no id" in admission.reason
