"""Turn arbitrary user text into a safe FTS5 query that matches natural-language questions."""

from __future__ import annotations

import re

_WORD = re.compile(r"\w+")
#: Words too common to help ranking; dropped unless the query has nothing else.
# fmt: off
_STOPWORDS = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "did", "do", "does", "for", "from",
    "had", "has", "have", "he", "her", "his", "how", "i", "if", "in", "is", "it", "its", "me",
    "my", "no", "not", "of", "on", "or", "our", "she", "so", "that", "the", "their", "them",
    "they", "this", "to", "was", "we", "were", "what", "when", "where", "which", "who", "why",
    "will", "with", "you", "your",
})
# fmt: on
#: More terms than this only slow the query without changing what ranks first.
MAX_TERMS = 32


def match_expression(query: str) -> str | None:
    """Every word of ``query`` quoted (so no character is FTS5 syntax), joined with OR.

    None when the query has no word at all.
    """
    words = list(dict.fromkeys(w.lower() for w in _WORD.findall(query)))
    meaningful = [w for w in words if w not in _STOPWORDS]
    terms = (meaningful or words)[:MAX_TERMS]
    if not terms:
        return None
    return " OR ".join(f'"{term}"' for term in terms)
