"""SQLite only: the nearest-neighbour graph answers as the exact scan does, follows every delete
of the store, and is rebuilt when its file is missing or corrupt."""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest
from usearch.index import Index

from engine.audience import Scope
from engine.records import Message
from engine.store.protocol import RecordFilter
from engine.store.sqlite import SQLiteStore
from engine.store.sqlite._ann import _EXPANSION_ADD, _EXPANSION_SEARCH, GraphSettings
from engine.store.sqlite._database import snapshot
from engine.store.sqlite._matrix import Conditions
from engine.store.sqlite._vectors import VectorIndex
from engine.store.sqlite.messages import VECTOR_COLUMNS
from tests.contract.records import AGENT, DM_ALICE, PUBLIC, WS, message

DIM = 16
rng = np.random.default_rng(11)
OPEN = RecordFilter(AGENT, WS, (Scope.agent(), Scope.workspace()))
ALICE = RecordFilter(AGENT, WS, (Scope.agent(), Scope.workspace(), Scope.dm("alice")))


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    opened = SQLiteStore(tmp_path / "m.sqlite3")
    await opened.setup()
    yield opened
    await opened.close()


@pytest.fixture
def conn(store: SQLiteStore) -> sqlite3.Connection:
    return sqlite3.connect(store.path, isolation_level=None)


def graphed(folder: Path, batch: int = 37) -> VectorIndex:
    settings = GraphSettings(min_rows=40, batch=batch, folder=folder, seconds=0, candidates=40)
    return VectorIndex("messages", VECTOR_COLUMNS, graphs=settings)


def scanned() -> VectorIndex:
    return VectorIndex("messages", VECTOR_COLUMNS, graphs=GraphSettings(min_rows=10**9))


def settled(index: VectorIndex, conn: sqlite3.Connection) -> None:
    """Refresh until the rows are loaded and every graph is complete."""
    for _ in range(1000):
        with snapshot(conn):
            if index.refresh(conn) and not index.building:
                return
    raise AssertionError("the index never settled")


def ranked(index: VectorIndex, conn: sqlite3.Connection, where: RecordFilter) -> list[list[int]]:
    settled(index, conn)
    queries = rng.standard_normal((12, DIM)).astype(np.float32)
    return [[pos for pos, _ in index.search(where, q.tolist(), 10)] for q in queries]


def graph_keys(index: VectorIndex) -> set[int]:
    """Positions held by the graphs (white-box: what the graph itself would return)."""
    return {
        int(k)
        for matrix in index._matrices.values()
        if matrix.graph is not None
        for k in matrix.graph.positions()
    }


async def fill(store: SQLiteStore, count: int = 300) -> list[Message]:
    batch = [message(f"p{i}", PUBLIC, author=f"u{i % 7}") for i in range(count)]
    batch += [message(f"d{i}", DM_ALICE) for i in range(30)]
    await store.messages.append(batch)
    vectors = rng.standard_normal((len(batch), DIM)).astype(np.float32)
    await store.messages.set_embeddings([(m.id, v) for m, v in zip(batch, vectors, strict=True)])
    return batch


async def test_graph_answers_equal_the_exact_scan(
    store: SQLiteStore, conn: sqlite3.Connection, tmp_path: Path
) -> None:
    await fill(store)
    index, exact = graphed(tmp_path / "graphs"), scanned()

    in_dm = dataclasses.replace(ALICE, channel=DM_ALICE.channel)
    for where in (OPEN, ALICE, in_dm, dataclasses.replace(OPEN, user="u3")):
        state = rng.bit_generator.state
        by_graph = ranked(index, conn, where)
        rng.bit_generator.state = state
        assert by_graph == ranked(exact, conn, where)
    assert len(graph_keys(index)) == 330
    assert list((tmp_path / "graphs").glob("*.usearch"))


async def test_every_delete_of_the_store_reaches_the_graph(
    store: SQLiteStore, conn: sqlite3.Connection, tmp_path: Path
) -> None:
    batch = await fill(store)
    index = graphed(tmp_path / "graphs")
    settled(index, conn)
    pos = dict(conn.execute("SELECT id, pos FROM messages").fetchall())

    await store.messages.delete_user(WS, "u3")
    await store.messages.redact([batch[0].id, batch[1].id])
    settled(index, conn)

    gone = {pos[m.id] for m in batch if m.author == "u3"} | {pos[batch[0].id], pos[batch[1].id]}
    assert not gone & graph_keys(index)
    assert len(graph_keys(index)) == 330 - len(gone)
    for found in ranked(index, conn, ALICE):
        assert not gone & set(found)
    assert ranked(index, conn, dataclasses.replace(OPEN, user="u3")) == [[]] * 12


@pytest.mark.parametrize("damage", ["deleted", "corrupt", "centre lost"])
async def test_a_missing_or_corrupt_graph_file_is_rebuilt(
    store: SQLiteStore, conn: sqlite3.Connection, tmp_path: Path, damage: str
) -> None:
    await fill(store)
    folder = tmp_path / "graphs"
    settled(graphed(folder), conn)
    (saved,) = folder.glob("*.usearch")
    if damage == "deleted":
        saved.unlink()
    elif damage == "corrupt":
        saved.write_bytes(b"not a graph" * 100)
    else:
        saved.with_suffix(".centre").unlink()

    index = graphed(folder)
    settled(index, conn)

    assert len(graph_keys(index)) == 330
    state = rng.bit_generator.state
    by_graph = ranked(index, conn, OPEN)
    rng.bit_generator.state = state
    assert by_graph == ranked(scanned(), conn, OPEN)


async def test_a_saved_graph_is_reconciled_with_the_rows_when_read_back(
    store: SQLiteStore, conn: sqlite3.Connection, tmp_path: Path
) -> None:
    batch = await fill(store)
    folder = tmp_path / "graphs"
    settled(graphed(folder, batch=1000), conn)
    await store.messages.delete_user(WS, "u5")
    more = [message(f"n{i}", PUBLIC, author="bob") for i in range(20)]
    await store.messages.append(more)
    vectors = rng.standard_normal((len(more), DIM)).astype(np.float32)
    await store.messages.set_embeddings([(m.id, v) for m, v in zip(more, vectors, strict=True)])

    index = graphed(folder, batch=1000)
    settled(index, conn)

    live = {p for (p,) in conn.execute("SELECT pos FROM messages WHERE vec_rev IS NOT NULL")}
    assert graph_keys(index) == live
    assert len(live) == 330 + 20 - sum(m.author == "u5" for m in batch)


async def test_a_deleted_row_leaves_the_saved_graph_at_once(
    store: SQLiteStore, conn: sqlite3.Connection, tmp_path: Path
) -> None:
    batch = await fill(store)
    folder = tmp_path / "graphs"
    settled(graphed(folder), conn)
    index = graphed(folder)
    settled(index, conn)
    gone = conn.execute("SELECT pos FROM messages WHERE id = ?", (batch[3].id,)).fetchone()[0]

    await store.messages.redact([batch[3].id])
    settled(index, conn)

    (saved,) = folder.glob("*.usearch")
    restored = Index.restore(str(saved))
    assert restored is not None
    assert not restored.contains(gone)


async def test_a_filter_few_rows_pass_is_known_before_the_graph_is_asked(
    store: SQLiteStore, conn: sqlite3.Connection, tmp_path: Path
) -> None:
    """A channel's or an author's rows are counted as they arrive, so a search limited to a
    few of them scans those rows rather than ask the graph for candidates that miss them."""
    await fill(store)
    index = graphed(tmp_path / "graphs")
    settled(index, conn)
    [matrix] = index._matrices.values()
    codes = index._codes

    def bound(where: RecordFilter) -> int:
        return matrix.at_most(Conditions(where, codes, users_are_authors=True))

    assert bound(OPEN) == 330
    assert bound(dataclasses.replace(ALICE, channel=DM_ALICE.channel)) == 30
    assert bound(dataclasses.replace(OPEN, user="u3")) == len(range(3, 300, 7))
    assert bound(dataclasses.replace(OPEN, channel="nowhere")) == 0


async def test_a_graph_read_back_adds_and_searches_as_one_built_here(
    store: SQLiteStore, conn: sqlite3.Connection, tmp_path: Path
) -> None:
    """A saved graph keeps neither search breadth; usearch's own default for adding cost five
    times as much per new message."""
    await fill(store)
    folder = tmp_path / "graphs"
    settled(graphed(folder), conn)
    assert list(folder.glob("*.usearch"))

    index = graphed(folder)
    settled(index, conn)

    [matrix] = index._matrices.values()
    assert matrix.graph is not None
    assert matrix.graph.index.expansion_add == _EXPANSION_ADD
    assert matrix.graph.index.expansion_search == _EXPANSION_SEARCH
