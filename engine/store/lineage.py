"""Lineage: which messages (and records) every derived memory came from.

A derived record (a block line, an archival passage, a summary, a digest, agent mail, the agent's
own messages) is linked to the ids it was derived from: always the root messages, flattened at
write time, and also the derived records it was built on (a passage a search returned), so that
"everything derived from X" is one index lookup whether X is a message or a memory. Forgetting a
person, deleting one memory, or a platform deleting a message all follow these links.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class Derived(StrEnum):
    """The kinds of record that carry lineage, and how a forget treats each."""

    #: One line of a core-memory block (``record_id`` = ``block_line_id(block_id, line)``):
    #: the line is removed.
    BLOCK_LINE = "block_line"
    #: An archival passage: deleted.
    PASSAGE = "passage"
    #: The agent's own message or tool call/result in recall: redacted in place.
    MESSAGE = "message"
    #: A conversation summary (``record_id`` = the conversation key): dropped and refolded.
    SUMMARY = "summary"
    #: A channel digest: deleted (the job writes it again from what remains).
    DIGEST = "digest"
    #: Agent-to-agent mail: deleted.
    MAIL = "mail"


def block_line_id(block_id: str, line: str) -> str:
    """The lineage id of one line of a block: the block and the line's text, whitespace folded."""
    digest = hashlib.sha1(" ".join(line.split()).encode(), usedforsecurity=False).hexdigest()
    return f"{block_id}#{digest[:16]}"


def person_source(workspace: str, user: str) -> str:
    """A source standing for everything ``user`` said in ``workspace``: what outlives the
    messages it came from (a summary kept after retention deleted them) links to it, so
    forgetting the person still finds it."""
    return f"person:{workspace}:{user}"


@dataclass(frozen=True, slots=True)
class Link:
    """``record_id`` of kind ``kind`` in ``workspace`` was derived from ``source``."""

    kind: Derived
    record_id: str
    source: str
    workspace: str


@dataclass(frozen=True, slots=True)
class Derivation:
    """One derived record with all its sources: the links of one record, kept together until
    they are written (a turn journals a few of these rather than one link per source)."""

    kind: Derived
    record_id: str
    sources: tuple[str, ...]
    workspace: str

    def links(self) -> list[Link]:
        return links(self.kind, self.record_id, self.sources, self.workspace)


def links_of(records: Iterable[Derivation]) -> list[Link]:
    """The links of every record in ``records``."""
    return [link for record in records for link in record.links()]


@dataclass(frozen=True, slots=True)
class DerivedRecord:
    """One record found by a lineage lookup."""

    kind: Derived
    record_id: str


#: Ids looked up per statement: under SQLite's limit on bound variables, and a modest ``$in``.
BATCH = 500

#: What a redacted message says instead of its text (and its tool calls' arguments).
REDACTED = "[forgotten]"


def batches[T](items: Sequence[T], size: int = BATCH) -> Iterator[Sequence[T]]:
    """``items`` in consecutive slices of at most ``size``."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def redacted_calls(calls: Sequence[dict[str, object]]) -> list[dict[str, object]]:
    """Stored tool calls (``{"id", "name", "arguments"}``) with their arguments redacted."""
    return [call | {"arguments": REDACTED} for call in calls]


def links(kind: Derived, record_id: str, sources: Iterable[str], workspace: str) -> list[Link]:
    """The links of one derived record to each of its (distinct, non-empty) sources."""
    return [Link(kind, record_id, source, workspace) for source in sorted(set(sources)) if source]


class LineageStore(Protocol):
    """The lineage index, on both backends: a lookup by source is an index, never a scan."""

    async def link(self, links: Sequence[Link]) -> None:
        """Record links; recording the same link twice keeps one."""

    async def derived_from(self, sources: Sequence[str]) -> list[DerivedRecord]:
        """Every record derived from any of ``sources`` (distinct, in no particular order)."""

    async def sources_of(self, kind: Derived, record_ids: Sequence[str]) -> dict[str, list[str]]:
        """The sources of each record (records without lineage are absent)."""

    async def unlink_records(self, kind: Derived, record_ids: Sequence[str]) -> int:
        """Forget the lineage of records that are gone; returns the links removed."""

    async def unlink_sources(self, sources: Sequence[str]) -> int:
        """Forget every link from ``sources`` (they are gone); returns the links removed."""
