""" "Why do you think that?": the memories matching some words, and the messages they came from.

An answer holds only what the asker's audience may read (DESIGN §3): block lines and passages
under its readable scopes, and, among their sources, only messages it may read. Asked in a
public channel, a fact learned in a DM is not shown, and neither is a DM that a public fact
also came from.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import replace

from engine.audience import Audience
from engine.citations import Citations, readable_by
from engine.ports import MemoryItem, Source
from engine.records import Agent, Block, Message, Passage, shared_owner
from engine.store.lineage import Derived, block_line_id
from engine.store.protocol import RecordFilter, Store
from engine.text import search_words

#: Block lines, and passages, an answer lists at most (each).
WHY_LIMIT = 10
ARCHIVAL = "archival"


def distinctive_words(text: str) -> set[str]:
    """The words of ``text`` that tell one memory from another: no stopwords, at least three
    letters, or a number."""
    return {w for w in search_words(text) if len(w) >= 3 or w.isdigit()}


class MemoryExplainer:
    """Finds the memories an audience may read that match some words, with their sources."""

    def __init__(self, store: Store, citations: Citations) -> None:
        self._store = store
        self._citations = citations

    async def why(
        self,
        audience: Audience,
        words: str,
        agents: Sequence[Agent] | None = None,
        limit: int = WHY_LIMIT,
    ) -> list[MemoryItem]:
        """Matching block lines (most shared words first), then matching passages, in the
        memory of ``agents`` (default: every agent)."""
        terms = distinctive_words(words)
        if not terms:
            return []
        if agents is None:
            agents = await self._store.agents.list()
        blocks = await self._store.blocks.visible(
            block_owners(agents), audience.workspace, audience.readable_scopes
        )
        found = await asyncio.gather(
            *(
                self._store.passages.search_text(
                    RecordFilter(agent.id, audience.workspace, audience.readable_scopes),
                    " ".join(sorted(terms)),
                    limit,
                )
                for agent in agents
            )
        )
        passages = [hit.record for hits in found for hit in hits]
        passages = [p for p in passages if terms & distinctive_words(p.text)][:limit]
        return await self.with_sources(
            [*matching_lines(blocks, terms)[:limit], *map(passage_item, passages)],
            readable_by(audience),
        )

    async def cited_memory(
        self, blocks: Sequence[Block], passages: Sequence[Passage], audience: Audience
    ) -> list[MemoryItem]:
        """Every line of ``blocks`` and every one of ``passages``, each with its sources that
        ``audience`` may read (what the inspector shows next to them)."""
        items = [*(i for block in blocks for i in block_lines(block)), *map(passage_item, passages)]
        return await self.with_sources(items, readable_by(audience))

    async def with_sources(
        self, items: Sequence[MemoryItem], shown: Callable[[Message], bool]
    ) -> list[MemoryItem]:
        """``items`` with the sources of each that pass ``shown``."""
        lines, passages = await asyncio.gather(
            self._citations.sources(Derived.BLOCK_LINE, _ids(items, Derived.BLOCK_LINE), shown),
            self._citations.sources(Derived.PASSAGE, _ids(items, Derived.PASSAGE), shown),
        )
        sources: dict[Derived, dict[str, list[Source]]] = {
            Derived.BLOCK_LINE: lines,
            Derived.PASSAGE: passages,
        }
        return [replace(i, sources=tuple(sources[i.kind].get(i.record_id, ()))) for i in items]


def block_owners(agents: Sequence[Agent]) -> list[str]:
    """Whose blocks ``agents`` read: their own, and the shared blocks they use."""
    return sorted(
        {a.id for a in agents} | {shared_owner(n) for a in agents for n in a.shared_blocks}
    )


def block_lines(block: Block) -> list[MemoryItem]:
    """Each non-empty line of a block, as the memory item lineage knows it by."""
    return [
        MemoryItem(
            Derived.BLOCK_LINE,
            block_line_id(block.id, line),
            block.label,
            line.strip(),
            scope=block.scope,
        )
        for line in block.value.split("\n")
        if line.strip()
    ]


def passage_item(passage: Passage) -> MemoryItem:
    return MemoryItem(Derived.PASSAGE, passage.id, ARCHIVAL, passage.text, scope=passage.scope)


def matching_lines(blocks: Sequence[Block], terms: set[str]) -> list[MemoryItem]:
    """The lines of ``blocks`` sharing a word with ``terms``, those sharing most first."""
    scored = [
        (len(terms & distinctive_words(item.text)), index, item)
        for index, item in enumerate(i for block in blocks for i in block_lines(block))
    ]
    return [item for shared, _, item in sorted(scored, key=lambda s: (-s[0], s[1])) if shared]


def _ids(items: Sequence[MemoryItem], kind: Derived) -> list[str]:
    return [item.record_id for item in items if item.kind is kind]


def render_why(
    words: str, items: Sequence[MemoryItem], link: Callable[[str, str], str] | None = None
) -> str:
    """An answer in Markdown; ``link(text, url)`` writes a link another way than Markdown's
    ``[text](url)`` (a terminal's)."""
    if not items:
        return f"I remember nothing here about “{words}”."
    write = link or (lambda text, url: f"[{text}]({url})")
    lines = [f"What I remember about “{words}”, and where it came from:"]
    for item in items:
        lines.append(f"• ({item.label}) {item.text}")
        if not item.sources:
            lines.append("    - no source I can show here")
        for source in item.sources:
            said = f"{source.author}, {source.said_at:%d %b %Y} in {source.channel}"
            lines.append(f"    - {write(said, source.link) if source.link else said}")
    return "\n".join(lines)
