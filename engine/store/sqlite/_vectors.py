"""An in-memory copy of a table's embeddings, ranked with numpy, kept fresh across processes.

Each row that carries an embedding has a ``vec_rev`` taken from ``vectors_meta`` when it was
written, and every deletion of such a row bumps ``vectors_meta.deletes``. Before each search the
copy loads rows with a newer ``vec_rev`` and, when ``deletes`` moved, drops rows that are gone,
so writes by this or any other process on the same file are seen. Rows are kept in one matrix
per agent and workspace (every read names both), and the remaining filters are numpy masks.
A large matrix also keeps an approximate nearest-neighbour graph (``_ann``), which follows the
matrix's own additions and removals, so every delete of the store reaches it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence

import numpy as np

from engine.store.protocol import RecordFilter, Scored
from engine.store.sqlite._ann import GraphSettings, graph_path
from engine.store.sqlite._database import Database, snapshot
from engine.store.sqlite._filters import placeholders
from engine.store.sqlite._matrix import Codes, Conditions, Ints, Matrix

#: Rows loaded per store operation, so loading a large table does not stall other
#: operations for long (they run between the chunks). A chunk's rows, blobs and float copies
#: peak at about 9 KB a row, memory the allocator keeps: 45 MB here, 120 MB at 20,000.
LOAD_CHUNK = 5_000
#: The int8 matrix's best ``limit`` are re-ranked by the stored float32 vectors from this many
#: times as many candidates: sentence embeddings crowd so close that int8 alone put a tenth of
#: the float32 top 10 just outside it (bench/recall_scale.py).
RESCORE_FACTOR = 2


class _Placement:
    """Which matrix and row hold each position's vector: two int32 arrays indexed by position
    (8 bytes a row, where a dict of tuples took about 150: 140 MB at a million rows)."""

    def __init__(self) -> None:
        self.matrix: Codes = np.full(0, -1, np.int32)
        self.row: Codes = np.zeros(0, np.int32)

    def place(self, positions: Ints, number: int, rows: range) -> list[tuple[int, int]]:
        """Put ``positions`` at ``rows`` of matrix ``number``; returns the (matrix, row) of the
        copies they replace (a position embedded again, maybe twice in one batch)."""
        size = int(positions.max()) + 1
        if size > len(self.matrix):
            grown = max(size, 2 * len(self.matrix))
            unplaced = np.full(grown - len(self.matrix), -1, np.int32)
            self.matrix = np.concatenate([self.matrix, unplaced])
            self.row = np.resize(self.row, grown)
        row_ids = np.arange(rows.start, rows.stop, dtype=np.int32)
        replaced: list[tuple[int, int]] = []
        if len(positions) == 1:
            last = np.zeros(1, np.int64)
        else:
            _, from_end = np.unique(positions[::-1], return_index=True)
            last = len(positions) - 1 - from_end
            replaced += [
                (number, int(row_ids[i])) for i in np.setdiff1d(np.arange(len(rows)), last)
            ]
        kept = positions[last]
        held = self.matrix[kept] >= 0
        older = zip(self.matrix[kept][held].tolist(), self.row[kept][held].tolist(), strict=True)
        replaced.extend(older)
        self.matrix[kept] = number
        self.row[kept] = row_ids[last]
        return replaced

    def rows_in(self, number: int, positions: Ints) -> Ints:
        """The rows of matrix ``number`` holding ``positions`` (those it holds)."""
        positions = positions[(positions >= 0) & (positions < len(self.matrix))]
        rows: Ints = self.row[positions][self.matrix[positions] == number].astype(np.int64)
        return rows


class VectorIndex:
    """The embeddings of ``messages`` or ``passages``; used only on the store's own thread."""

    def __init__(
        self,
        table: str,
        select: str,
        load_chunk: int = LOAD_CHUNK,
        graphs: GraphSettings | None = None,
    ) -> None:
        """``select`` lists: pos, vec_rev, agent_id, workspace, scope, channel, author,
        tags (JSON or NULL), users (JSON or NULL), created_at, embedding."""
        self._table = table
        self._select = select
        self._load_chunk = load_chunk
        self._graphs = graphs or GraphSettings()
        self._users_are_authors = table == "messages"
        self._reset()

    def _reset(self) -> None:
        self._rev = 0
        self._deletes: int | None = None
        self._codes: dict[str, int] = {}
        # one matrix per (dimension, agent code, workspace code): a search scans only the
        # rows of its own agent and workspace
        self._matrices: dict[tuple[int, int, int], Matrix] = {}
        #: The matrices in order of creation: a matrix's number in ``_placement``.
        self._numbered: list[Matrix] = []
        self._placement = _Placement()

    def refresh(self, conn: sqlite3.Connection) -> bool:
        """Catch up with the file, loading at most ``load_chunk`` rows; True once caught up.

        Call inside a read transaction, again until it returns True.
        """
        rev, deletes = conn.execute(
            "SELECT rev, deletes FROM vectors_meta WHERE tbl = ?", (self._table,)
        ).fetchone()
        if self._deletes is None:
            self._deletes = deletes
        if rev > self._rev:
            self._load(conn, rev)
            if self._rev < rev:
                return False
        if deletes != self._deletes:
            live = np.array(
                conn.execute(f"SELECT pos FROM {self._table} WHERE vec_rev IS NOT NULL").fetchall(),
                np.int64,
            ).reshape(-1)
            for matrix in self._matrices.values():
                matrix.keep_only(live)
            self._deletes = deletes
            total = sum(m.size for m in self._matrices.values())
            dead = sum(m.dead for m in self._matrices.values())
            if dead > total // 4:
                self._reset()  # compact by reloading what is left
                return False
        self._grow_graphs()
        return True

    @property
    def building(self) -> bool:
        """Whether a graph is still being built (searches scan every row meanwhile)."""
        return any(matrix.graph_pending for matrix in self._matrices.values())

    def _grow_graphs(self) -> None:
        """One chunk of graph building per operation; searches scan exactly meanwhile."""
        for matrix in self._matrices.values():
            if not matrix.grow_graph():
                return

    def _load(self, conn: sqlite3.Connection, rev: int) -> None:
        rows = conn.execute(
            f"SELECT {self._select} FROM {self._table} "
            "WHERE vec_rev > ? AND vec_rev <= ? ORDER BY vec_rev LIMIT ?",
            (self._rev, rev, self._load_chunk),
        ).fetchall()
        self._rev = rows[-1][1] if len(rows) == self._load_chunk else rev
        if not rows:
            return
        columns = list(zip(*rows, strict=True))
        codes = self._codes
        pos = np.array(columns[0], np.int64)
        fields = np.array(
            [[codes.setdefault(v, len(codes)) for v in columns[i]] for i in range(2, 7)],
            np.int32,
        ).T
        tags = self._many(columns[7])
        users = self._many(columns[8])
        created = np.array(columns[9], np.int64)
        blobs: tuple[bytes, ...] = columns[10]
        groups: dict[tuple[int, int, int], list[int]] = {}
        agents, workspaces = fields[:, 0].tolist(), fields[:, 1].tolist()
        for i, blob in enumerate(blobs):
            groups.setdefault((len(blob) // 4, agents[i], workspaces[i]), []).append(i)
        for key, members in groups.items():
            picked = np.array(members, np.int64)
            dim = key[0]
            vectors = np.frombuffer(b"".join([blobs[i] for i in members]), np.float32)
            matrix = self._matrices.get(key)
            if matrix is None:
                first = picked[0]
                path = graph_path(
                    self._graphs.folder, self._table, dim, columns[2][first], columns[3][first]
                )
                matrix = self._matrices[key] = Matrix(dim, self._graphs, path)
                self._numbered.append(matrix)
            added = matrix.append(
                pos[picked],
                fields[picked],
                created[picked],
                vectors.reshape(len(picked), dim),
                [tags[i] for i in picked],
                [users[i] for i in picked],
            )
            number = self._numbered.index(matrix)
            for older, row in self._placement.place(pos[picked], number, added):
                self._numbered[older].kill(row)  # re-embedded: the older copy is dead

    def _many(self, values: Sequence[str | None]) -> list[list[int]]:
        codes = self._codes
        return [
            [codes.setdefault(v, len(codes)) for v in json.loads(text)] if text else []
            for text in values
        ]

    def search(
        self, where: RecordFilter, vector: Sequence[float], limit: int
    ) -> list[tuple[int, float]]:
        """(pos, cosine similarity) of the best ``limit`` visible rows, best first."""
        query = np.asarray(vector, np.float32)
        norm = float(np.linalg.norm(query))
        conditions = Conditions(where, self._codes, self._users_are_authors)
        matrix = self._matrices.get((len(query), conditions.agent, conditions.workspace))
        if matrix is None or matrix.size == 0 or norm == 0 or limit <= 0:
            return []
        return matrix.search(conditions, query / norm, limit, self._rows_in(matrix))

    def rescore(
        self,
        conn: sqlite3.Connection,
        found: list[tuple[int, float]],
        vector: Sequence[float],
        limit: int,
    ) -> list[tuple[int, float]]:
        """The best ``limit`` of ``found`` by the float32 vectors stored in the file."""
        if not found:
            return []
        positions = [pos for pos, _ in found]
        rows = conn.execute(
            f"SELECT pos, embedding FROM {self._table} "
            f"WHERE pos IN ({placeholders(len(positions))}) AND embedding IS NOT NULL",
            positions,
        ).fetchall()
        query = np.asarray(vector, np.float32)
        if not rows or any(len(blob) != 4 * len(query) for _, blob in rows):
            return found[:limit]
        blobs = b"".join(blob for _, blob in rows)
        stored = np.frombuffer(blobs, np.float32).reshape(len(rows), len(query))
        norms = np.linalg.norm(stored, axis=1) * max(float(np.linalg.norm(query)), 1e-12)
        scores = np.einsum("ij,j->i", stored, query) / np.where(norms == 0, 1, norms)
        order = np.argsort(-scores, kind="stable")[:limit]
        return [(int(rows[i][0]), float(scores[i])) for i in order]

    def _rows_in(self, matrix: Matrix) -> Callable[[Ints], Ints]:
        number = self._numbered.index(matrix)
        return lambda keys: self._placement.rows_in(number, keys)


async def nearest[T](
    db: Database,
    index: VectorIndex,
    where: RecordFilter,
    vector: Sequence[float],
    limit: int,
    rows: Callable[[sqlite3.Connection, list[int]], dict[int, T]],
) -> list[Scored[T]]:
    """The ``limit`` records nearest ``vector`` among those ``where`` lets through.

    ``rows`` reads the records at the given positions, applying ``where`` again in SQL.
    """

    def search(conn: sqlite3.Connection) -> list[Scored[T]] | None:
        with snapshot(conn):
            if not index.refresh(conn):
                return None  # more rows to load first; let other operations run
            best = index.rescore(
                conn, index.search(where, vector, limit * RESCORE_FACTOR), vector, limit
            )
            if not best:
                return []
            found = rows(conn, [pos for pos, _ in best])
        return [Scored(found[pos], score) for pos, score in best if pos in found]

    while (result := await db.run(search)) is None:
        pass
    return result
