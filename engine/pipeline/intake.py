"""What the engine accepts from an adapter into its inbox, and how it cleans it first.

Adapters decide what is for an agent (their intake chain); the engine only refuses what it
cannot keep or answer: an event without id, an empty message, a message for no known agent.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from engine.records import Inbound, InboundKind
from engine.store.protocol import AgentStore

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
    #: A refused message worth keeping for the operator, cleaned (one for no known agent).
    kept: Inbound | None = None


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


class InboxAdmission:
    """``admit``, then: a message (not an edit or deletion) is for an agent that exists."""

    def __init__(self, agents: AgentStore) -> None:
        self._agents = agents
        self._known: set[str] = set()

    async def admit(self, inbound: Inbound) -> Admission:
        admission = admit(inbound)
        cleaned = admission.inbound
        if cleaned is None or cleaned.kind is not InboundKind.MESSAGE:
            return admission
        if await self._agent_exists(cleaned.agent_id):
            return admission
        reason = f"there is no agent with id {cleaned.agent_id!r}"
        return Admission(None, reason, admission.notes, kept=cleaned)

    async def _agent_exists(self, agent_id: str) -> bool:
        if agent_id in self._known:
            return True
        if await self._agents.get(agent_id) is None:
            return False
        self._known.add(agent_id)
        return True
