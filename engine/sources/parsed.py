"""What every parser hands the chunker: a document's title and its text in reading order,
each piece with the section (heading path) and page it sits under."""

from __future__ import annotations

from dataclasses import dataclass, field


class SourceError(ValueError):
    """A file that cannot be taught to an agent; the message says why, in one sentence."""


@dataclass(frozen=True, slots=True)
class TextBlock:
    """One paragraph, list item, table row or code block."""

    section: str
    page: int
    text: str


@dataclass(frozen=True, slots=True)
class ParsedDocument:
    kind: str
    title: str
    blocks: tuple[TextBlock, ...]


#: How a section path shows nested headings: "Leave > Parental leave".
SECTION_JOINER = " > "


@dataclass(slots=True)
class SectionPath:
    """The headings above the current point of a document, by level (h1..h6)."""

    _titles: dict[int, str] = field(default_factory=dict)

    def enter(self, level: int, title: str) -> None:
        """A heading of ``level``: it replaces the one at its level and closes deeper ones."""
        self._titles = {k: v for k, v in self._titles.items() if k < level}
        if title:
            self._titles[level] = title

    def __str__(self) -> str:
        return SECTION_JOINER.join(self._titles[k] for k in sorted(self._titles))


def squeeze(text: str) -> str:
    """``text`` with runs of whitespace folded to one space."""
    return " ".join(text.split())
