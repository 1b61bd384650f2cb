"""Writing embeddings: float32 blobs stamped with a fresh ``vec_rev`` (see ``_vectors``)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

import numpy as np


def as_blob(vector: Sequence[float]) -> bytes:
    return np.asarray(vector, np.float32).tobytes()


def take_revs(conn: sqlite3.Connection, table: str, count: int) -> range:
    """Reserve ``count`` consecutive revisions; call inside a write transaction."""
    (last,) = conn.execute(
        "UPDATE vectors_meta SET rev = rev + ? WHERE tbl = ? RETURNING rev", (count, table)
    ).fetchone()
    return range(last - count + 1, last + 1)
