"""SQLite only: the in-memory vector copy stays equal to a brute-force ranking of the file.

Split by agent and workspace, loaded in small chunks, across re-embeddings, deletions (with
compaction) and writes by a second handle, its answers must match ranking every visible row
straight from the table.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from engine.audience import Scope
from engine.records import Message
from engine.store.protocol import RecordFilter
from engine.store.sqlite import SQLiteStore
from engine.store.sqlite._database import snapshot
from engine.store.sqlite._vectors import VectorIndex
from engine.store.sqlite.messages import VECTOR_COLUMNS
from tests.contract.records import AGENT, DM_ALICE, OTHER_PUBLIC, PUBLIC, WS, message

DIM = 16
rng = np.random.default_rng(3)


@pytest.fixture
async def stores(tmp_path: Path) -> AsyncIterator[tuple[SQLiteStore, SQLiteStore]]:
    first, second = SQLiteStore(tmp_path / "m.sqlite3"), SQLiteStore(tmp_path / "m.sqlite3")
    await first.setup()
    await second.setup()
    yield first, second
    await first.close()
    await second.close()


async def _embed(store: SQLiteStore, messages: list[Message]) -> None:
    vectors = rng.standard_normal((len(messages), DIM)).astype(np.float32)
    await store.messages.set_embeddings([(m.id, v) for m, v in zip(messages, vectors, strict=True)])


def _brute_force(conn: sqlite3.Connection, where: RecordFilter, query: np.ndarray) -> list[int]:
    marks = ",".join("?" * len(where.scopes))
    rows = conn.execute(
        "SELECT pos, embedding FROM messages WHERE embedding IS NOT NULL AND agent_id = ? "
        f"AND workspace = ? AND scope IN ({marks})",
        (where.agent_id, where.workspace, *map(str, where.scopes)),
    ).fetchall()
    scored = []
    for pos, blob in rows:
        vector = np.frombuffer(blob, np.float32)
        scored.append((float(vector @ query / np.linalg.norm(vector)), pos))
    return [pos for _, pos in sorted(scored, reverse=True)[:10]]


def _cached(
    index: VectorIndex, conn: sqlite3.Connection, where: RecordFilter, query: np.ndarray
) -> list[int]:
    chunks = 0
    while True:
        with snapshot(conn):
            if index.refresh(conn):
                return [pos for pos, _ in index.search(where, query.tolist(), 10)]
        chunks += 1
        assert chunks < 1000


async def test_cache_matches_brute_force_through_every_kind_of_change(
    stores: tuple[SQLiteStore, SQLiteStore],
) -> None:
    first, second = stores
    conn = sqlite3.connect(first.path, isolation_level=None)
    index = VectorIndex("messages", VECTOR_COLUMNS, load_chunk=7)
    public = RecordFilter(AGENT, WS, (Scope.agent(), Scope.workspace()))
    private = RecordFilter(AGENT, WS, (Scope.agent(), Scope.workspace(), Scope.dm("alice")))

    def agree() -> None:
        for where in (public, private):
            query = rng.standard_normal(DIM).astype(np.float32)
            query /= np.linalg.norm(query)
            assert _cached(index, conn, where, query) == _brute_force(conn, where, query)

    batch = [message(f"p{i}", PUBLIC) for i in range(60)]
    batch += [message(f"d{i}", DM_ALICE) for i in range(40)]
    batch += [message(f"o{i}", PUBLIC, agent="agent-2") for i in range(20)]
    batch += [message(f"w{i}", OTHER_PUBLIC) for i in range(20)]
    await first.messages.append(batch)
    await _embed(first, batch)
    agree()

    await _embed(second, batch[:30])  # re-embedded by another handle
    agree()

    more = [message(f"q{i}", PUBLIC) for i in range(25)]
    await second.messages.append(more)
    await _embed(second, more)
    agree()

    await second.messages.delete_user(WS, "alice")  # every message was authored by alice
    assert _cached(index, conn, private, np.ones(DIM, np.float32)) == []
    survivor = [message("left", PUBLIC, author="bob")]
    await first.messages.append(survivor)
    await _embed(first, survivor)
    agree()
    conn.close()
