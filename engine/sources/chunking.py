"""Chunks by structure under a token cap: the text blocks of one section (and page) are packed
together until the cap; a block over the cap is split at sentences, then at words."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from engine.sources.parsed import TextBlock

_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+")


@dataclass(frozen=True, slots=True)
class Chunk:
    section: str
    page: int
    text: str

    @property
    def content_hash(self) -> str:
        """The same section, page and text hash alike, wherever the chunk moves."""
        key = f"{self.section}\x1f{self.page}\x1f{self.text}".encode()
        return hashlib.sha256(key).hexdigest()


def chunk_blocks(
    blocks: Iterable[TextBlock], count: Callable[[str], int], cap: int
) -> Iterator[Chunk]:
    """Chunks of at most ``cap`` tokens (as ``count`` counts them), in reading order, never
    spanning two sections or pages."""
    place: tuple[str, int] | None = None
    parts: list[str] = []
    used = 0
    for block in blocks:
        if (block.section, block.page) != place:
            if parts and place is not None:
                yield Chunk(*place, "\n\n".join(parts))
            place, parts, used = (block.section, block.page), [], 0
        for piece, tokens in _pieces(block.text, count, cap):
            if parts and used + tokens > cap:
                yield Chunk(*place, "\n\n".join(parts))
                parts, used = [], 0
            parts.append(piece)
            used += tokens + 1
    if parts and place is not None:
        yield Chunk(*place, "\n\n".join(parts))


def _pieces(text: str, count: Callable[[str], int], cap: int) -> Iterator[tuple[str, int]]:
    """``text`` with its token count, or its sentences (and words) packed under ``cap``."""
    tokens = count(text)
    if tokens <= cap:
        yield text, tokens
        return
    yield from _packed(_SENTENCE_END.split(text), " ", count, cap, split_further=True)


def _packed(
    units: list[str], joiner: str, count: Callable[[str], int], cap: int, *, split_further: bool
) -> Iterator[tuple[str, int]]:
    held: list[str] = []
    used = 0
    for unit in units:
        tokens = count(unit)
        if tokens > cap and split_further:
            if held:
                yield joiner.join(held), used
                held, used = [], 0
            yield from _packed(unit.split(), " ", count, cap, split_further=False)
            continue
        if held and used + tokens + 1 > cap:
            yield joiner.join(held), used
            held, used = [], 0
        held.append(unit)
        used += tokens + (1 if len(held) > 1 else 0)
    if held:
        yield joiner.join(held), used
