"""Names in a query matched to the people who wrote the candidate messages.

"What did Caroline research?" is about what Caroline said; her own messages should rank above
the ones that merely address her by name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


def _words(text: str) -> set[str]:
    return {w.lower().removesuffix("'s") for w in _WORD.findall(text)}


def named_authors(query: str, author_names: Iterable[str]) -> frozenset[str]:
    """The author names whose full name, or first or last name, the query mentions.

    Only capitalised words in the query count, so "mark the date" is not about Mark.
    """
    capitalised = _words(" ".join(w for w in _WORD.findall(query) if w[:1].isupper()))
    if not capitalised:
        return frozenset()
    found: set[str] = set()
    for name in author_names:
        parts = _words(name)
        if parts and parts & capitalised:
            found.add(name)
    return frozenset(found)


def without_names(text: str, authors: Iterable[str]) -> str:
    """``text`` without the words of these names (and their possessive forms)."""
    names = set().union(*(_words(a) for a in authors)) if authors else set()
    if not names:
        return text
    return " ".join(w for w in text.split() if _words(w) - names or not _words(w))
