"""The item, forget-one and why parts of the engine's user-memory port, for adapter tests:
scripted answers, and a record of what the adapter asked."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from engine import Audience, Derived, ForgetReport, MemoryItem, Source

SAID_AT = datetime(2026, 3, 3, 14, 2, tzinfo=UTC)


def cited(text: str, *, channel: str = "#design", link: str | None = None) -> Source:
    """A source as the engine cites it: Ann said ``text`` on 3 March 2026."""
    return Source("m-" + text[:8], "Ann", SAID_AT, channel, text, link)


def line(record_id: str, text: str, *sources: Source) -> MemoryItem:
    return MemoryItem(Derived.BLOCK_LINE, record_id, "human", text, sources)


def archived(record_id: str, text: str, *sources: Source) -> MemoryItem:
    return MemoryItem(Derived.PASSAGE, record_id, "archival", text, sources)


@dataclass
class MemoryItemsDouble:
    """Scripted ``memory_items`` and ``why``; ``forget_item`` removes a listed item."""

    items: list[MemoryItem] = field(default_factory=list)
    answer: list[MemoryItem] = field(default_factory=list)
    forgotten_items: list[tuple[str, str, str]] = field(default_factory=list)
    asked_why: list[tuple[Audience, str]] = field(default_factory=list)

    async def memory_items(self, workspace: str, user: str) -> list[MemoryItem]:
        return list(self.items)

    async def forget_item(self, workspace: str, user: str, key: str) -> ForgetReport:
        item = next((i for i in self.items if i.key == key), None)
        if item is None:
            return ForgetReport()
        self.items.remove(item)
        self.forgotten_items.append((workspace, user, key))
        if item.kind is Derived.PASSAGE:
            return ForgetReport(passages=1)
        return ForgetReport(block_lines=1)

    async def why(self, audience: Audience, words: str) -> list[MemoryItem]:
        self.asked_why.append((audience, words))
        return list(self.answer)
