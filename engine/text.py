"""The words a full-text search looks for, the same whichever store runs it.

Both stores split a question into words, lowercased and deduplicated, and leave out words too
common to help ranking (they slow it down and barely move BM25 or ``textScore``), unless the
question has nothing else.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"\w+")
#: Words too common to help ranking; dropped unless the query has nothing else.
# fmt: off
STOPWORDS = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "did", "do", "does", "for", "from",
    "had", "has", "have", "he", "her", "his", "how", "i", "if", "in", "is", "it", "its", "me",
    "my", "no", "not", "of", "on", "or", "our", "she", "so", "that", "the", "their", "them",
    "they", "this", "to", "was", "we", "were", "what", "when", "where", "which", "who", "why",
    "will", "with", "you", "your",
})
# fmt: on
#: More words than this only slow the query without changing what ranks first.
MAX_TERMS = 32


def search_words(query: str) -> list[str]:
    """The distinct words of ``query``, lowercased, common ones left out when others exist."""
    words = list(dict.fromkeys(w.lower() for w in _WORD.findall(query)))
    meaningful = [w for w in words if w not in STOPWORDS]
    return (meaningful or words)[:MAX_TERMS]
