"""Words of a text, read the same way wherever the engine compares texts.

Both stores split a question into words, lowercased and deduplicated, and leave out words too
common to help ranking (they slow it down and barely move BM25 or ``textScore``), unless the
question has nothing else. Lineage ties a written memory to what it shares distinctive words
with.
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


#: Words of everyday talk that tie no text to another, besides ``STOPWORDS``.
# fmt: off
COMMON_WORDS = STOPWORDS | frozenset({
    "about", "after", "again", "all", "also", "any", "been", "before", "being", "can", "could",
    "don", "doesn", "each", "get", "got", "hello", "here", "hey", "into", "just", "know", "let",
    "like", "more", "most", "much", "now", "okay", "one", "only", "other", "out", "over",
    "please", "really", "said", "same", "say", "says", "should", "some", "sure", "tell", "than",
    "thank", "thanks", "then", "there", "these", "those", "too", "very", "want", "well", "would",
    "yeah", "yes",
})
# fmt: on


def distinctive_words(text: str) -> frozenset[str]:
    """The words of ``text`` that can tie it to where it came from: lowercased, not words of
    everyday talk, three characters or more, or a number of any length."""
    return frozenset(
        word
        for word in (w.lower() for w in _WORD.findall(text))
        if word not in COMMON_WORDS and (len(word) >= 3 or word.isdigit())
    )
