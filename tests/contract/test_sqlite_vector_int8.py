"""SQLite only: embeddings are held in memory as int8 with a scale per row, ranking as the
float32 vectors in the file do, and a deleted row's vector leaves the matrix."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from engine.audience import Scope
from engine.store.protocol import RecordFilter
from engine.store.sqlite import SQLiteStore
from engine.store.sqlite._ann import GraphSettings
from engine.store.sqlite._database import snapshot
from engine.store.sqlite._matrix import quantise
from engine.store.sqlite._vectors import VectorIndex
from engine.store.sqlite.messages import VECTOR_COLUMNS
from tests.contract.records import AGENT, PUBLIC, WS, message

DIM = 256
OPEN = RecordFilter(AGENT, WS, (Scope.agent(), Scope.workspace()))
rng = np.random.default_rng(5)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    opened = SQLiteStore(tmp_path / "m.sqlite3")
    await opened.setup()
    yield opened
    await opened.close()


def clustered(count: int) -> np.ndarray:
    """Vectors crowded around one direction, as sentence embeddings are."""
    common = rng.standard_normal(DIM)
    return (common + 0.6 * rng.standard_normal((count, DIM))).astype(np.float32)


def exact_float32(conn: sqlite3.Connection, query: np.ndarray) -> list[int]:
    rows = conn.execute("SELECT pos, embedding FROM messages WHERE embedding IS NOT NULL")
    pos, blobs = zip(*rows.fetchall(), strict=True)
    vectors = np.frombuffer(b"".join(blobs), np.float32).reshape(len(pos), DIM)
    scores = vectors @ query / np.linalg.norm(vectors, axis=1)
    return [pos[i] for i in np.argsort(-scores)[:10]]


def settled(index: VectorIndex, conn: sqlite3.Connection) -> None:
    for _ in range(1000):
        with snapshot(conn):
            if index.refresh(conn):
                return
    raise AssertionError("the index never caught up")


def test_quantised_rows_keep_the_cosine_within_two_thousandths() -> None:
    vectors = np.vstack([clustered(200), np.zeros((1, DIM), np.float32)])
    quantised, scales = quantise(vectors)
    restored = quantised.astype(np.float32) * scales[:, None]
    unit = vectors[:-1] / np.linalg.norm(vectors[:-1], axis=1, keepdims=True)

    assert quantised.dtype == np.int8
    error = np.abs(restored[:-1] @ unit.T - unit @ unit.T)
    assert error.max() < 2e-3
    assert error.mean() < 5e-4
    assert not restored[-1].any()


async def test_int8_matrix_ranks_as_the_float32_file_and_forgets_deleted_rows(
    store: SQLiteStore,
) -> None:
    batch = [message(f"m{i}", PUBLIC, author=f"u{i % 5}") for i in range(400)]
    await store.messages.append(batch)
    vectors = clustered(len(batch))
    await store.messages.set_embeddings([(m.id, v) for m, v in zip(batch, vectors, strict=True)])
    conn = sqlite3.connect(store.path, isolation_level=None)
    index = VectorIndex("messages", VECTOR_COLUMNS, graphs=GraphSettings(min_rows=10**9))
    queries = clustered(20)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)

    def agreement() -> float:
        settled(index, conn)
        found = [[pos for pos, _ in index.search(OPEN, q.tolist(), 10)] for q in queries]
        truth = [exact_float32(conn, q) for q in queries]
        return float(
            np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth, strict=True)])
        )

    assert agreement() >= 0.97
    (matrix,) = index._matrices.values()
    assert matrix.vectors.dtype == np.int8
    pos = dict(conn.execute("SELECT id, pos FROM messages").fetchall())
    for query in queries:  # the store re-ranks the int8 candidates by the stored float32
        hits = await store.messages.search_vector(OPEN, query.tolist(), 10)
        assert [pos[hit.record.id] for hit in hits] == exact_float32(conn, query)

    await store.messages.delete_user(WS, "u2")
    gone = {p for (p,) in conn.execute("SELECT pos FROM messages WHERE embedding IS NULL")}
    assert agreement() >= 0.97
    for query in queries:
        assert not gone & {pos for pos, _ in index.search(OPEN, query.tolist(), 50)}
    conn.close()
