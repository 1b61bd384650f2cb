"""Chunks by structure under a token cap: the text blocks of one section (and page) are packed
together until the cap; a block over the cap is split at sentences, then at words."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from engine.sources.parsed import TextBlock

#: After . ! ? ; : and a space, or after the ideographic full stop, exclamation and question
#: marks (which take no space).
_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+|(?<=[\u3002\uff01\uff1f])")


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
    held: list[str] = []
    used = 0
    for unit, size in _units(_SENTENCE_END.split(text), count, cap):
        if held and used + size + 1 > cap:
            yield " ".join(held), used
            held, used = [], 0
        held.append(unit)
        used += size + (1 if len(held) > 1 else 0)
    if held:
        yield " ".join(held), used


def _units(
    sentences: list[str], count: Callable[[str], int], cap: int
) -> Iterator[tuple[str, int]]:
    """Each sentence with its token count; a sentence over the cap by its words, and a word
    over the cap (a URL, base64, text without spaces) in slices of ``cap // 2`` characters,
    since no character takes more than two tokens."""
    step = max(cap // 2, 1)
    for sentence in sentences:
        tokens = count(sentence)
        if tokens <= cap:
            yield sentence, tokens
            continue
        for word in sentence.split():
            size = count(word)
            if size <= cap:
                yield word, size
            else:
                pieces = (word[i : i + step] for i in range(0, len(word), step))
                yield from ((piece, count(piece)) for piece in pieces)
