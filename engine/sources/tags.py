"""The archival tags that mark document chunks: one for every chunk, one per document, so
the counts a turn already reads tell the agent which documents it has."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

#: The tag every chunk carries, and the prefix of the tag naming its document.
SOURCE_TAG = "source"
_PREFIX = f"{SOURCE_TAG}:"


def source_tag(name: str) -> str:
    """The tag naming a document among archival tags (lower case, as search tags are)."""
    return f"{_PREFIX}{name.lower()}"


def topic_tags(tags: Iterable[str]) -> list[str]:
    """``tags`` without the ones marking document chunks (a citation says that better)."""
    return [t for t in tags if t != SOURCE_TAG and not t.startswith(_PREFIX)]


def split_source_tags(tags: Mapping[str, int]) -> tuple[dict[str, int], dict[str, int]]:
    """``tags`` counts as (chunks per document name, every other tag)."""
    documents = {t.removeprefix(_PREFIX): n for t, n in tags.items() if t.startswith(_PREFIX)}
    others = {t: n for t, n in tags.items() if t != SOURCE_TAG and not t.startswith(_PREFIX)}
    return documents, others
