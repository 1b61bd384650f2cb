"""What the engine accepts from an adapter, and how it cleans it before storing it."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from engine.records import Inbound, InboundKind

#: Longest message text kept, in UTF-8 bytes; longer texts are cut and marked, never dropped.
MAX_TEXT_BYTES = 100_000
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_REPLACEMENT = "\ufffd"


@dataclass(frozen=True, slots=True)
class Admission:
    """The cleaned message to store, or why it was refused; ``notes`` says what was changed."""

    inbound: Inbound | None
    reason: str = ""
    notes: tuple[str, ...] = ()


def truncation_marker(cut_bytes: int) -> str:
    return f"\n[message truncated: {cut_bytes} bytes over the {MAX_TEXT_BYTES // 1000} KB limit]"


def clean_text(text: str) -> tuple[str, tuple[str, ...]]:
    """Replace lone surrogates (invalid Unicode that no store can encode) and cut long texts."""
    notes: list[str] = []
    if _LONE_SURROGATE.search(text):
        text = _LONE_SURROGATE.sub(_REPLACEMENT, text)
        notes.append("invalid Unicode replaced")
    encoded = text.encode("utf-8")
    if len(encoded) > MAX_TEXT_BYTES:
        marker = truncation_marker(len(encoded) - MAX_TEXT_BYTES)
        room = MAX_TEXT_BYTES - len(marker.encode("utf-8"))
        text = encoded[:room].decode("utf-8", "ignore") + marker
        notes.append("text truncated")
    return text, tuple(notes)


def admit(inbound: Inbound) -> Admission:
    """Clean an inbound message; refuse only what holds nothing to remember or answer."""
    if not inbound.event_id:
        return Admission(None, "the event has no id, so its redeliveries could not be recognised")
    text, notes = clean_text(inbound.text)
    author_name, name_notes = clean_text(inbound.author.name)
    if inbound.kind is InboundKind.MESSAGE and not text.strip() and not inbound.attachments:
        return Admission(None, "the message is empty: there is nothing to answer")
    if notes or name_notes:
        author = dataclasses.replace(inbound.author, name=author_name)
        inbound = dataclasses.replace(inbound, text=text, author=author)
    return Admission(inbound, notes=notes)
