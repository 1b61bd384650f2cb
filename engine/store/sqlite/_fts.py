"""Full-text search that tolerates any user text and stays fast as the tables grow.

A question is split into its search words (``engine.text``), each quoted (no character is FTS5
syntax) and joined with OR so a natural-language question matches.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from engine.store.protocol import RecordFilter
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
type Plan = Literal["best_first", "visible_first", "matches_first"]


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
    plan: Plan = "best_first",
) -> list[Row]:
    """Rows of ``table`` matching any word of ``query`` and ``condition``, best BM25 first.

    ``columns`` and ``condition`` name the table ``alias``; each row is ``columns`` then the
    row's BM25 score (lower is better). Never raises on user text.

    ``plan`` says where to start: ``best_first`` (a ``condition`` most rows pass) ranks the
    index's best matches alone first (see ``_SHORTLIST_FACTOR``); ``visible_first`` (a
    ``condition`` an index narrows to few rows, such as a channel's) reads those rows'
    positions first and ranks only the matches among them. Otherwise, or when that does not
    answer, one pass over the matches, in the index's order (CROSS JOIN keeps the planner
    from probing the index once per visible row): each is joined to its row, and only those
    ``condition`` keeps are scored and sorted. Ordering by the ``rank`` column instead would
    have FTS5 score and sort every match before the filter, so a search in one channel would
    pay for the whole table.
    """
    terms = counts.rarest(conn, query_terms(query)) if limit > 0 else []
    if not terms:
        return []
    match = " OR ".join(terms)
    where = _Where(table, alias, columns, condition, params)
    first = {"best_first": _shortlisted, "visible_first": _among_visible}.get(plan)
    if first is not None and (found := first(conn, fts, where, match, limit)) is not None:
        return found
    return conn.execute(
        f"SELECT {columns}, bm25({fts}) AS score FROM {fts} f CROSS JOIN {table} {alias} "
        f"ON {alias}.pos = f.rowid WHERE f.{fts} MATCH ? AND {condition} "
        "ORDER BY score LIMIT ?",
        [match, *params, limit],
    ).fetchall()


@dataclass(frozen=True, slots=True)
class _Where:
    """The table searched and the caller's condition on it (see ``ranked_rows``)."""

    table: str
    alias: str
    columns: str
    condition: str
    params: Sequence[object]

    def rows(self, conn: sqlite3.Connection, scored: Sequence[tuple[int, float]]) -> list[Row]:
        """The rows at the scored positions that the condition keeps, best first, each
        ``columns`` then its score."""
        scores = dict(scored)
        if not scores:
            return []
        # NOT INDEXED: the planner would rather scan the agent's rows by index than look up
        # these few rowids.
        rows = conn.execute(
            f"SELECT {self.alias}.pos, {self.columns} FROM {self.table} {self.alias} NOT INDEXED "
            f"WHERE {self.alias}.pos IN ({placeholders(len(scores))}) AND {self.condition}",
            [*scores, *self.params],
        ).fetchall()
        rows.sort(key=lambda row: scores[row[0]])
        return [(*row[1:], scores[row[0]]) for row in rows]


def _among_visible(
    conn: sqlite3.Connection, fts: str, where: _Where, match: str, limit: int
) -> list[Row] | None:
    """The answer from the matches among the rows the condition keeps, read first; None when
    those are more than the posting budget (a pass over the matches then reads fewer rows).
    In one conversation among 100k messages: 7.2 -> 1.7 ms p50, 11.7 -> 2.5 ms p95."""
    visible = conn.execute(
        f"SELECT {where.alias}.pos FROM {where.table} {where.alias} WHERE {where.condition} "
        "LIMIT ?",
        [*where.params, _POSTING_BUDGET + 1],
    ).fetchall()
    if len(visible) > _POSTING_BUDGET:
        return None
    # The unary + keeps FTS5 from looking each position up in every term's postings (50 ms).
    best = conn.execute(
        f"SELECT rowid, bm25({fts}) AS score FROM {fts} WHERE {fts} MATCH ? "
        "AND +rowid IN (SELECT value FROM json_each(?)) ORDER BY score LIMIT ?",
        (match, json.dumps([pos for (pos,) in visible]), limit),
    ).fetchall()
    return where.rows(conn, best)


def _shortlisted(
    conn: sqlite3.Connection, fts: str, where: _Where, match: str, limit: int
) -> list[Row] | None:
    """The answer from the index's best matches alone, or None when too few pass the
    condition among them to be sure of it."""
    best = conn.execute(
        f"SELECT rowid, bm25({fts}) AS score FROM {fts} WHERE {fts} MATCH ? ORDER BY score LIMIT ?",
        (match, limit * _SHORTLIST_FACTOR),
    ).fetchall()
    rows = where.rows(conn, best)
    if len(rows) < limit and len(best) == limit * _SHORTLIST_FACTOR:
        return None
    return rows[:limit]


def text_plan(where: RecordFilter, *, messages: bool) -> Plan:
    """Where ``ranked_rows`` starts for ``where``: a channel's messages are found by index; a
    person's records are too few among the best matches."""
    if messages and where.channel is not None:
        return "visible_first"
    return "best_first" if where.user is None else "matches_first"
