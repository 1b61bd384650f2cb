"""Full-text search that tolerates any user text and stays fast as the tables grow.

A question is split into its search words (``engine.text``), each quoted (no character is FTS5
syntax) and joined with OR so a natural-language question matches.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from engine.store.sqlite._filters import placeholders
from engine.text import search_words

#: Counting a term's documents stops here: past it the term is "common" anyway.
_COUNT_CAP = 20_000
#: Ranking cost grows with the documents the chosen terms match; rarer terms are kept first
#: until their documents add up to this (the rarest term is always kept).
_POSTING_BUDGET = 4_000
#: The whole index's best ``limit`` times this many matches are ranked first, with no row read:
#: when ``limit`` of them pass the caller's condition they are the answer (no match outside
#: them ranks higher), and only they are read, where the filtered ranking reads a row per match
#: (half of its time at 100k messages).
_SHORTLIST_FACTOR = 4

type Row = tuple[Any, ...]


def query_terms(query: str) -> list[str]:
    """Every search word of ``query`` as a quoted FTS5 phrase (no character is FTS5 syntax)."""
    return [f'"{word}"' for word in search_words(query)]


class TermCounts:
    """How many rows each search term matches, remembered while the table grows or shrinks by
    under a tenth: rarity only chooses which terms rank, and counting a common term's rows
    took 4-8 ms a search at a million messages (twice: everywhere, then in the conversation)."""

    def __init__(self, table: str, fts: str, limit: int = 8192) -> None:
        self._table = table
        self._fts = fts
        self._limit = limit
        #: term -> (rows it matches, the table's last position when they were counted)
        self._known: dict[str, tuple[int, int]] = {}

    def rarest(self, conn: sqlite3.Connection, terms: list[str]) -> list[str]:
        """The rarest terms, as many as the posting budget allows (IDF says they rank
        anyway)."""
        if len(terms) < 2:
            return terms
        (size,) = conn.execute(f"SELECT coalesce(max(pos), 0) FROM {self._table}").fetchone()
        counted = sorted(
            (documents, term) for term in terms if (documents := self._documents(conn, term, size))
        )
        kept: list[str] = []
        total = 0
        for documents, term in counted:
            if kept and total + documents > _POSTING_BUDGET:
                break
            kept.append(term)
            total += documents
        return kept

    def _documents(self, conn: sqlite3.Connection, term: str, size: int) -> int:
        known = self._known.get(term)
        if known is not None and abs(size - known[1]) * 10 <= known[1]:
            return known[0]
        (documents,) = conn.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM {self._fts} WHERE {self._fts} MATCH ? LIMIT ?)",
            (term, _COUNT_CAP),
        ).fetchone()
        if len(self._known) >= self._limit:
            self._known.pop(next(iter(self._known)))
        self._known[term] = (documents, size)
        return int(documents)


def ranked_rows(
    conn: sqlite3.Connection,
    *,
    fts: str,
    table: str,
    alias: str,
    columns: str,
    condition: str,
    params: Sequence[object],
    query: str,
    limit: int,
    counts: TermCounts,
    shortlist: bool = True,
) -> list[Row]:
    """Rows of ``table`` matching any word of ``query`` and ``condition``, best BM25 first.

    ``columns`` and ``condition`` name the table ``alias``; each row is ``columns`` then the
    row's BM25 score (lower is better). Never raises on user text.

    With ``shortlist`` (for a ``condition`` most rows pass), the index's best matches are
    tried first (see ``_SHORTLIST_FACTOR``). Otherwise, or when too few of them pass, one
    pass over the matches, in the index's order (CROSS JOIN keeps the planner from probing
    the index once per visible row): each is joined to its row, and only those ``condition``
    keeps are scored and sorted. Ordering by the ``rank`` column instead would have FTS5
    score and sort every match before the filter, so a search in one channel would pay for
    the whole table.
    """
    terms = counts.rarest(conn, query_terms(query)) if limit > 0 else []
    if not terms:
        return []
    match = " OR ".join(terms)
    if shortlist:
        found = _shortlisted(conn, fts, table, alias, columns, condition, params, match, limit)
        if found is not None:
            return found
    return conn.execute(
        f"SELECT {columns}, bm25({fts}) AS score FROM {fts} f CROSS JOIN {table} {alias} "
        f"ON {alias}.pos = f.rowid WHERE f.{fts} MATCH ? AND {condition} "
        "ORDER BY score LIMIT ?",
        [match, *params, limit],
    ).fetchall()


def _shortlisted(
    conn: sqlite3.Connection,
    fts: str,
    table: str,
    alias: str,
    columns: str,
    condition: str,
    params: Sequence[object],
    match: str,
    limit: int,
) -> list[Row] | None:
    """The answer from the index's best matches alone, or None when too few pass
    ``condition`` among them to be sure of it."""
    best = conn.execute(
        f"SELECT rowid, bm25({fts}) AS score FROM {fts} WHERE {fts} MATCH ? ORDER BY score LIMIT ?",
        (match, limit * _SHORTLIST_FACTOR),
    ).fetchall()
    if not best:
        return []
    scores = dict(best)
    # NOT INDEXED: the planner would rather scan the agent's rows by index than look up these
    # few rowids.
    rows = conn.execute(
        f"SELECT {alias}.pos, {columns} FROM {table} {alias} NOT INDEXED "
        f"WHERE {alias}.pos IN ({placeholders(len(scores))}) AND {condition}",
        [*scores, *params],
    ).fetchall()
    if len(rows) < limit and len(best) == limit * _SHORTLIST_FACTOR:
        return None
    rows.sort(key=lambda row: scores[row[0]])
    return [(*row[1:], scores[row[0]]) for row in rows[:limit]]
