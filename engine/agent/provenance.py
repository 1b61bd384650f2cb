"""Where a run's writes come from: the attribution rule of lineage (docs/lineage.md).

Everything a turn or a background pass writes (block lines, passages, mail, its own messages)
is derived from the messages the run answers or read, from every record its tools returned,
and from the messages, block lines and summary in its context window that share a distinctive
word with the written text. The sources of a record that is itself derived are flattened in,
so one lookup by source finds everything derived from it. Links are gathered while the run
works and written together when its outcome is applied, never one round trip per line.
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from engine.records import Message, ToolCall
from engine.store.lineage import (
    Derivation,
    Derived,
    LineageStore,
    Link,
    block_line_id,
    links_of,
)
from engine.text import distinctive_words

if TYPE_CHECKING:
    from engine.agent.memory import BlockView

#: A source of a derived record: an id, and the kind under which that record's own sources are
#: flattened in too (None: the id alone).
type Ref = tuple[Derived | None, str]


def message_text(message: Message) -> str:
    """What a message says: its content and the values its tool calls pass."""
    return _said(message.content, message.tool_calls)


@functools.lru_cache(maxsize=20_000)
def _message_words(message_id: str, content: str, calls: tuple[ToolCall, ...]) -> frozenset[str]:
    """The distinctive words of a stored message: a window shows mostly the same messages turn
    after turn, so each is read once."""
    return distinctive_words(_said(content, calls))


@functools.lru_cache(maxsize=4_096)
def _block_line_words(block_id: str, value: str) -> tuple[tuple[Ref, frozenset[str]], ...]:
    """Each line of a block part with its distinctive words: blocks change rarely and are in
    every window, so each version is read once."""
    return tuple(
        ((Derived.BLOCK_LINE, block_line_id(block_id, line)), distinctive_words(line))
        for line in block_lines(value)
    )


@functools.lru_cache(maxsize=1_024)
def _summary_words(summary: str) -> frozenset[str]:
    """The distinctive words of a conversation summary: it is in every window of its
    conversation and changes only when messages are folded into it, so each is read once."""
    return distinctive_words(summary)


def _said(content: str, calls: Sequence[ToolCall]) -> str:
    said = [content]
    for call in calls:
        try:
            said += _leaves(json.loads(call.arguments))
        except json.JSONDecodeError:
            said.append(call.arguments)
    return "\n".join(s for s in said if s)


def _leaves(value: object) -> list[str]:
    """The strings and numbers in a JSON value (its keys name the tool's fields, not facts)."""
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    return [] if value is None else [str(value)]


def block_lines(value: str) -> list[str]:
    """The lines of a block's value that carry lineage (blank ones carry nothing)."""
    return [line for line in value.split("\n") if line.strip()]


@dataclass(frozen=True, slots=True)
class _Derivation:
    kind: Derived
    record_id: str
    refs: frozenset[Ref]


@dataclass(eq=False)
class Provenance:
    """The sources of what one run writes, and the links gathered until its outcome is applied."""

    _inputs: set[Ref] = field(default_factory=set)
    _found: set[Ref] = field(default_factory=set)
    #: What the context window shows: stored messages, blocks, the summary and its text.
    _window: tuple[tuple[Message, ...], tuple[BlockView, ...], str, str] = ((), (), "", "")
    #: The window's records with their distinctive words, worked out once per window.
    _indexed: list[tuple[Ref, frozenset[str]]] | None = None
    _derived: list[_Derivation] = field(default_factory=list)

    # -- what the run reads ----------------------------------------------------------------------

    def read(self, message_ids: Iterable[str], *, derived: bool = False) -> None:
        """The messages the run answers (or a pass reads): sources of all it writes. Messages
        that were ``derived`` themselves (another agent's mail) bring their own sources."""
        kind = Derived.MESSAGE if derived else None
        self._inputs.update((kind, mid) for mid in message_ids)

    def found(self, kind: Derived, record_ids: Iterable[str]) -> None:
        """Records a tool returned to the run: sources of all it writes from now on."""
        self._found.update((kind, rid) for rid in record_ids)

    def see(
        self,
        messages: Sequence[Message],
        blocks: Sequence[BlockView],
        summary_id: str = "",
        summary: str = "",
    ) -> None:
        """What the context window now shows: its stored messages, block lines and summary.

        A block line brings its own sources (lines last long, and are what later turns copy).
        A message or the summary is linked by its id alone: flattening the agent's messages
        into each other would make every message carry the whole conversation; what was
        derived through them is found by following links from it.
        """
        self._window = (tuple(messages), tuple(blocks), summary_id, summary)
        self._indexed = None

    def sources_of(self, text: str) -> frozenset[Ref]:
        """The sources of ``text`` written now: the inputs, what tools returned, and what in
        the window shares a distinctive word with it."""
        words = distinctive_words(text)
        if self._indexed is None:
            self._indexed = self._in_window()
        shared = {ref for ref, seen in self._indexed if not words.isdisjoint(seen)}
        return frozenset(self._inputs | self._found | shared)

    def _in_window(self) -> list[tuple[Ref, frozenset[str]]]:
        """The window's records and their distinctive words."""
        messages, blocks, summary_id, summary = self._window
        indexed: list[tuple[Ref, frozenset[str]]] = [
            ((None, m.id), _message_words(m.id, m.content, m.tool_calls)) for m in messages
        ]
        indexed += [
            line
            for view in blocks
            for part in view.parts
            for line in _block_line_words(part.id, part.value)
        ]
        if summary_id and summary:
            indexed.append(((None, summary_id), _summary_words(summary)))
        return indexed

    # -- what the run writes ---------------------------------------------------------------------

    def derive(self, kind: Derived, record_id: str, text: str, also: Iterable[Ref] = ()) -> None:
        """``record_id`` was written with ``text`` now (and built on ``also``)."""
        self.link(kind, record_id, self.sources_of(text) | frozenset(also))

    def link(self, kind: Derived, record_id: str, refs: Iterable[Ref]) -> None:
        """``record_id`` was derived from exactly ``refs`` (their ids and their sources)."""
        self._derived.append(_Derivation(kind, record_id, frozenset(refs)))

    def rewrite_block(self, block_id: str, old: str, new: str) -> None:
        """A block part edited from ``old`` to ``new``: an unchanged line keeps its links; a new
        line is derived from this run's sources for it and from the removed lines it shares a
        distinctive word with."""
        before = {block_line_id(block_id, line): line for line in block_lines(old)}
        after = {block_line_id(block_id, line): line for line in block_lines(new)}
        removed = [
            ((Derived.BLOCK_LINE, line_id), distinctive_words(line))
            for line_id, line in before.items()
            if line_id not in after
        ]
        for line_id, line in after.items():
            if line_id in before:
                continue
            words = distinctive_words(line)
            kept = [ref for ref, old_words in removed if old_words & words]
            self.derive(Derived.BLOCK_LINE, line_id, line, kept)

    async def write(self, lineage: LineageStore, workspace: str) -> None:
        """Write every link gathered so far, now (where no turn's apply step will)."""
        await lineage.link(links_of(await self.links(lineage, workspace)))

    async def block_edit_links(
        self, lineage: LineageStore, workspace: str, block_id: str, old: str, new: str
    ) -> list[Link]:
        """The links ``rewrite_block`` would record, resolved now: the store writes them with
        the edit, so a run stopped before its outcome is applied leaves no line unlinked.
        Nothing is recorded (the edit may lose its compare-and-set)."""
        before = len(self._derived)
        self.rewrite_block(block_id, old, new)
        edited: set[Ref] = {(d.kind, d.record_id) for d in self._derived[before:]}
        try:
            return await self.links_of_records(lineage, workspace, edited)
        finally:
            del self._derived[before:]

    async def links_of_records(
        self, lineage: LineageStore, workspace: str, records: Collection[Ref]
    ) -> list[Link]:
        """The links of ``records`` (derived so far), resolved now: a record a run writes
        before its outcome is applied is stored with them, so a run stopped before then
        (a crash, a failed attempt) leaves nothing a forget cannot find. The outcome writes
        them again, unchanged."""
        return links_of(await self._resolved(lineage, workspace, set(records)))

    async def links(self, lineage: LineageStore, workspace: str) -> tuple[Derivation, ...]:
        """Every record written so far with its sources, those of derived sources flattened
        in (one lookup per kind of record referred to)."""
        return await self._resolved(lineage, workspace)

    async def _resolved(
        self, lineage: LineageStore, workspace: str, only: set[Ref] | None = None
    ) -> tuple[Derivation, ...]:
        """``links``, of the records in ``only`` when given (resolved through all the run
        wrote)."""
        written: dict[Ref, set[Ref]] = {}
        for derivation in self._derived:
            written.setdefault((derivation.kind, derivation.record_id), set()).update(
                derivation.refs
            )
        stored = await _stored_sources(lineage, {ref for refs in written.values() for ref in refs})
        resolved: dict[Ref, frozenset[str]] = {}

        def sources(ref: Ref, visiting: frozenset[Ref]) -> frozenset[str]:
            if ref not in resolved:
                own = {ref[1], *stored.get(ref, ())}
                for inner in written.get(ref, ()):
                    if inner not in visiting:
                        own |= sources(inner, visiting | {ref})
                resolved[ref] = frozenset(own)
            return resolved[ref]

        gathered: list[Derivation] = []
        for kind, record_id in dict.fromkeys((d.kind, d.record_id) for d in self._derived):
            if only is not None and (kind, record_id) not in only:
                continue
            refs = written[(kind, record_id)]
            found = {ref[1] for ref in refs if ref[0] is None}
            for ref in refs:
                if ref[0] is not None:
                    found |= sources(ref, frozenset({(kind, record_id)}))
            found.discard(record_id)
            found.discard("")
            if found:
                gathered.append(Derivation(kind, record_id, tuple(sorted(found)), workspace))
        return tuple(gathered)


async def _stored_sources(lineage: LineageStore, refs: set[Ref]) -> dict[Ref, list[str]]:
    """The stored sources of ``refs`` taken with their sources, one lookup per kind."""
    by_kind: dict[Derived, list[str]] = {}
    for kind, record_id in refs:
        if kind is not None:
            by_kind.setdefault(kind, []).append(record_id)
    if not by_kind:
        return {}
    kinds = sorted(by_kind)
    found = await asyncio.gather(*(lineage.sources_of(kind, by_kind[kind]) for kind in kinds))
    return {
        (kind, record_id): sources
        for kind, per_record in zip(kinds, found, strict=True)
        for record_id, sources in per_record.items()
    }


async def link_derived(
    lineage: LineageStore, workspace: str, kind: Derived, record_id: str, sources: Iterable[Ref]
) -> None:
    """Record now that ``record_id``, written outside a turn (by a job), was derived from
    ``sources`` and what they were derived from."""
    provenance = Provenance()
    provenance.link(kind, record_id, sources)
    await provenance.write(lineage, workspace)
