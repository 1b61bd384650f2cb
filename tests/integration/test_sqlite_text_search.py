"""Text search on the embedded store, filtered to one channel: the same rows, in the same order,
as ranking every match with FTS5's own ``rank`` and keeping the visible ones afterwards."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from engine.audience import Audience, AudienceKind, Scope
from engine.store.protocol import RecordFilter
from engine.store.sqlite import SQLiteStore
from engine.store.sqlite._fts import TermCounts, query_terms
from tests.contract.records import DM_ALICE, WS, message, visible_to

BUSY = Audience(WS, AudienceKind.PUBLIC, "C-busy")
QUIET = Audience(WS, AudienceKind.PUBLIC, "C-quiet")
WORDS = [
    *("pizza", "garden", "violin", "hiking", "tokyo", "puppy"),
    *("sunset", "camera", "river", "bakery", "chess", "museum"),
]
QUERIES = ["pizza in the garden", "violin lessons and chess", "a puppy by the river", "tokyo"]


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    """Most messages in one busy channel, a few in a quiet one, some in a DM no channel
    search may see; each with a few of ``WORDS`` and words of its own."""
    opened = SQLiteStore(tmp_path / "search.sqlite3")
    await opened.setup()
    rng = random.Random(7)
    audiences = [BUSY] * 900 + [QUIET] * 25 + [DM_ALICE] * 75
    said = [
        message(
            " ".join([*rng.sample(WORDS, rng.randint(1, 4)), *(f"w{n}x{i}" for i in range(n % 9))]),
            audience,
        )
        for n, audience in enumerate(audiences)
    ]
    await opened.messages.append(said)
    yield opened
    await opened.close()


def ranked_then_filtered(path: Path, where: RecordFilter, query: str, limit: int) -> list[str]:
    """Every match ranked by FTS5's ``rank``, then the first ``limit`` ``where`` sees."""
    channels = set() if where.channel is None else {where.channel}
    scopes = {str(s) for s in where.scopes}
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT m.id, m.channel, m.scope FROM (SELECT rowid, rank FROM messages_fts "
            "WHERE messages_fts MATCH ? ORDER BY rank) f JOIN messages m ON m.pos = f.rowid "
            "ORDER BY f.rank",
            [" OR ".join(query_terms(query))],
        ).fetchall()
    return [
        row_id
        for row_id, channel, scope in rows
        if scope in scopes and (not channels or channel in channels)
    ][:limit]


@pytest.mark.parametrize("audience", [BUSY, QUIET], ids=["not-selective", "selective"])
@pytest.mark.parametrize("limit", [3, 30])
async def test_a_channel_search_finds_what_ranking_everything_then_filtering_finds(
    store: SQLiteStore, audience: Audience, limit: int
) -> None:
    where = replace(visible_to(audience), channel=audience.channel)
    for query in QUERIES:
        found = await store.messages.search_text(where, query, limit)
        expected = ranked_then_filtered(store.path, where, query, limit)

        assert [hit.record.id for hit in found] == expected
        assert all(hit.record.channel == audience.channel for hit in found)
        scores = [hit.score for hit in found]
        assert scores == sorted(scores, reverse=True)


async def test_a_search_of_everything_visible_ranks_the_same(store: SQLiteStore) -> None:
    where = visible_to(BUSY)
    for query in QUERIES:
        found = await store.messages.search_text(where, query, 20)

        assert [h.record.id for h in found] == ranked_then_filtered(store.path, where, query, 20)


@pytest.mark.parametrize("limit", [3, 30])
async def test_a_search_whose_rows_are_rare_among_the_best_matches_ranks_the_same(
    store: SQLiteStore, limit: int
) -> None:
    """Only the DM's rows are visible: too few of them are among the index's best matches to
    answer from those alone, and the search still finds the DM's own best."""
    where = visible_to(DM_ALICE, scopes=(Scope.dm("alice"),))
    for query in QUERIES:
        found = await store.messages.search_text(where, query, limit)

        assert [h.record.id for h in found] == ranked_then_filtered(store.path, where, query, limit)
        assert found
        assert all(h.record.channel == DM_ALICE.channel for h in found)


async def test_term_rarity_follows_the_table_as_it_grows(tmp_path: Path) -> None:
    """Counts of rows per term are remembered, and counted again once the table has grown:
    a term that became the common one is no longer ranked first."""
    opened = SQLiteStore(tmp_path / "terms.sqlite3")
    await opened.setup()
    await opened.messages.append(
        [message("apple", BUSY) for _ in range(10)] + [message("pear", BUSY) for _ in range(20)]
    )
    counts = TermCounts("messages", "messages_fts")
    with sqlite3.connect(opened.path) as conn:
        assert counts.rarest(conn, ['"pear"', '"apple"']) == ['"apple"', '"pear"']
        await opened.messages.append([message("apple", BUSY) for _ in range(30)])

        assert counts.rarest(conn, ['"pear"', '"apple"']) == ['"pear"', '"apple"']
    await opened.close()


async def test_a_channel_with_more_rows_than_are_read_first_ranks_the_same(
    tmp_path: Path,
) -> None:
    """A channel holding more messages than are read before the matches (4,000) is searched
    by a pass over the matches instead, with the same answer."""
    opened = SQLiteStore(tmp_path / "big.sqlite3")
    await opened.setup()
    rng = random.Random(3)
    await opened.messages.append(
        [message(" ".join(rng.sample(WORDS, 2)), BUSY if n % 5 else QUIET) for n in range(5_200)]
    )
    where = replace(visible_to(BUSY), channel=BUSY.channel)
    for query in QUERIES:
        found = await opened.messages.search_text(where, query, 10)

        assert [h.record.id for h in found] == ranked_then_filtered(opened.path, where, query, 10)
    await opened.close()
