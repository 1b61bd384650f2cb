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
import time
from collections.abc import Callable, Sequence
from itertools import chain
from pathlib import Path

import numpy as np
import numpy.typing as npt

from engine.store.protocol import RecordFilter, Scored
from engine.store.sqlite._ann import Graph, GraphSettings, graph_path
from engine.store.sqlite._database import Database, snapshot
from engine.store.sqlite._time import to_micros

type Ints = npt.NDArray[np.int64]
type Codes = npt.NDArray[np.int32]
type Mask = npt.NDArray[np.bool_]
type Floats = npt.NDArray[np.float32]

#: Below this share of matching rows, scoring only those rows beats scoring them all.
_GATHER_SHARE = 0.12
_UNKNOWN = -1
#: Rows loaded per store operation, so loading a large table does not stall other
#: operations for long (they run between the chunks).
LOAD_CHUNK = 20_000


class _Pairs:
    """A many-valued field as (code, row) pairs, so "has any of" is one vectorised test."""

    def __init__(self) -> None:
        self._chunks: list[tuple[Codes, Ints]] = []
        self._joined: tuple[Codes, Ints] | None = None

    def extend(self, first_row: int, values: Sequence[Sequence[int]]) -> None:
        lengths = [len(v) for v in values]
        if not any(lengths):
            return
        codes = np.fromiter(chain.from_iterable(values), np.int32)
        rows = np.repeat(np.arange(first_row, first_row + len(values), dtype=np.int64), lengths)
        self._chunks.append((codes, rows))
        self._joined = None

    def rows_with_any(self, wanted: Sequence[int], size: int) -> Mask:
        mask = np.zeros(size, np.bool_)
        if not self._chunks:
            return mask
        if self._joined is None:
            self._joined = (
                np.concatenate([codes for codes, _ in self._chunks]),
                np.concatenate([rows for _, rows in self._chunks]),
            )
            self._chunks = [self._joined]
        codes, rows = self._joined
        mask[rows[np.isin(codes, wanted)]] = True
        return mask


class _Matrix:
    """Rows of one embedding dimension: normalised vectors and the fields reads filter on."""

    def __init__(self, dim: int, graphs: GraphSettings, path: Path | None) -> None:
        self.dim = dim
        self.size = 0
        self.dead = 0
        cap = 1024
        self.vectors: Floats = np.zeros((cap, dim), np.float32)
        self.pos: Ints = np.zeros(cap, np.int64)
        self.created: Ints = np.zeros(cap, np.int64)
        self.alive: Mask = np.zeros(cap, np.bool_)
        # agent, workspace, scope, channel, author, as interned codes
        self.fields: Codes = np.zeros((cap, 5), np.int32)
        # the many-valued fields (tags, users) as (codes, rows) pairs, appended in chunks
        self.tags = _Pairs()
        self.users = _Pairs()
        self._graphs = graphs
        self._graph_path = path
        self.graph: Graph | None = None
        #: Rows whose vector is in the graph, and how many rows were offered to it so far.
        self.in_graph: Mask = np.zeros(cap, np.bool_)
        self.offered = 0

    def _reserve(self, extra: int) -> None:
        cap = len(self.pos)
        if self.size + extra <= cap:
            return
        new_cap = max(cap * 2, self.size + extra)
        vectors = np.zeros((new_cap, self.dim), np.float32)
        vectors[: self.size] = self.vectors[: self.size]
        self.vectors = vectors
        self.pos = np.resize(self.pos, new_cap)
        self.created = np.resize(self.created, new_cap)
        self.alive = np.resize(self.alive, new_cap)
        self.in_graph = np.resize(self.in_graph, new_cap)
        self.in_graph[self.size :] = False
        fields = np.zeros((new_cap, 5), np.int32)
        fields[: self.size] = self.fields[: self.size]
        self.fields = fields

    def append(
        self,
        pos: Ints,
        fields: Codes,
        created: Ints,
        vectors: Floats,
        tags: Sequence[Sequence[int]],
        users: Sequence[Sequence[int]],
    ) -> range:
        """Add a batch of rows; returns their indexes."""
        count = len(pos)
        self._reserve(count)
        rows = range(self.size, self.size + count)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        self.vectors[rows.start : rows.stop] = vectors / np.where(norms == 0, 1, norms)
        self.pos[rows.start : rows.stop] = pos
        self.fields[rows.start : rows.stop] = fields
        self.created[rows.start : rows.stop] = created
        self.alive[rows.start : rows.stop] = True
        self.tags.extend(rows.start, tags)
        self.users.extend(rows.start, users)
        self.size = rows.stop
        return rows

    def kill(self, row: int) -> None:
        if self.alive[row]:
            self.alive[row] = False
            self.dead += 1
            self._ungraph(np.array([row], np.int64))

    def keep_only(self, live: Ints) -> None:
        alive = self.alive[: self.size]
        gone = alive & ~np.isin(self.pos[: self.size], live)
        self.dead += int(gone.sum())
        alive &= ~gone
        self._ungraph(np.flatnonzero(gone))

    def _ungraph(self, rows: Ints) -> None:
        if self.graph is None:
            return
        rows = rows[self.in_graph[rows]]
        self.graph.remove(self.pos[rows])
        self.in_graph[rows] = False

    @property
    def graph_pending(self) -> bool:
        """Whether this matrix needs a graph that is not complete yet."""
        if self.graph is None:
            return self.size >= self._graphs.min_rows
        return self.offered < self.size

    def grow_graph(self) -> bool:
        """Offer the graph one chunk of rows it lacks; True when it is complete (or not
        needed). A graph read back from its file is first reconciled with the rows."""
        settings = self._graphs
        if self.graph is None:
            if self.size < settings.min_rows:
                return True
            self.graph = Graph(
                self.dim, self._graph_path, self.vectors[: self.size][self.alive[: self.size]]
            )
            n = self.size
            kept = self.graph.contains(self.pos[:n]) & self.alive[:n]
            self.in_graph[:n] = kept
            stale = np.setdiff1d(self.graph.positions(), self.pos[:n][kept])
            self.graph.remove(stale)
        graph = self.graph
        until = time.perf_counter() + settings.seconds
        while self.offered < self.size:
            stop = min(self.size, self.offered + settings.batch)
            rows = np.arange(self.offered, stop)
            rows = rows[self.alive[rows] & ~self.in_graph[rows]]
            graph.add(self.pos[rows], self.vectors[rows])
            self.in_graph[rows] = True
            self.offered = stop
            if time.perf_counter() > until:
                break
        complete = self.offered == self.size
        if graph.removed or (complete and graph.changes > max(settings.batch, self.size // 10)):
            graph.save()
        return complete

    def _admitted(self, conditions: _Conditions, rows: Ints | slice) -> Mask:
        """Which of ``rows`` are alive and pass ``conditions`` (agent and workspace are the
        matrix's own: see VectorIndex._matrices)."""
        fields = self.fields[rows]
        mask = self.alive[rows] & np.isin(fields[:, 2], conditions.scopes)
        if conditions.start is not None:
            mask &= self.created[rows] >= conditions.start
        if conditions.end is not None:
            mask &= self.created[rows] <= conditions.end
        if conditions.channel is not None:
            mask &= fields[:, 3] == conditions.channel
        if conditions.author is not None:
            mask &= fields[:, 4] == conditions.author
        if conditions.tags is not None:
            mask &= self.tags.rows_with_any(conditions.tags, self.size)[rows]
        if conditions.user is not None:
            mask &= self.users.rows_with_any([conditions.user], self.size)[rows]
        return mask

    def search(
        self, conditions: _Conditions, query: Floats, limit: int, rows_of: Callable[[Ints], Ints]
    ) -> list[tuple[int, float]]:
        """The best ``limit`` rows: from the graph's candidates when it is complete and enough
        of them pass the filter, else by scanning every row."""
        if self.graph is not None and self.offered == self.size:
            keys = self.graph.nearest(query, max(limit, self._graphs.candidates))
            candidates = rows_of(keys)
            candidates = candidates[self._admitted(conditions, candidates)]
            if len(candidates) >= limit:
                return self._best(
                    candidates, np.einsum("ij,j->i", self.vectors[candidates], query), limit
                )
        n = self.size
        mask = self._admitted(conditions, slice(0, n))
        rows = np.flatnonzero(mask)
        if rows.size == 0:
            return []
        # einsum, not BLAS: BLAS threads fight the event loop for cores and stall for ms.
        if rows.size < _GATHER_SHARE * n:
            scores = np.einsum("ij,j->i", self.vectors[rows], query)
        else:
            scores = np.einsum("ij,j->i", self.vectors[:n], query)[rows]
        return self._best(rows, scores, limit)

    def _best(self, rows: Ints, scores: Floats, limit: int) -> list[tuple[int, float]]:
        k = min(limit, rows.size)
        best = np.argpartition(-scores, k - 1)[:k] if k < rows.size else np.arange(rows.size)
        best = best[np.argsort(-scores[best], kind="stable")]
        return [(int(self.pos[rows[i]]), float(scores[i])) for i in best]


class _Conditions:
    """A ``RecordFilter`` translated into interned codes."""

    __slots__ = (
        "agent",
        "author",
        "channel",
        "end",
        "scopes",
        "start",
        "tags",
        "user",
        "workspace",
    )

    def __init__(self, where: RecordFilter, codes: dict[str, int], users_are_authors: bool):
        def code(value: str) -> int:
            return codes.get(value, _UNKNOWN)

        self.agent = code(where.agent_id)
        self.workspace = code(where.workspace)
        self.scopes = [code(str(s)) for s in where.scopes]
        self.start = None if where.start is None else to_micros(where.start)
        self.end = None if where.end is None else to_micros(where.end)
        self.channel = None if where.channel is None else code(where.channel)
        self.tags = [code(t) for t in where.tags] if where.tags else None
        self.author = code(where.user) if where.user is not None and users_are_authors else None
        self.user = code(where.user) if where.user is not None and not users_are_authors else None


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
        self._matrices: dict[tuple[int, int, int], _Matrix] = {}
        self._rows: dict[int, tuple[_Matrix, int]] = {}

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
        dims = np.array([len(blob) // 4 for blob in blobs], np.int64)
        keys = np.stack([dims, fields[:, 0], fields[:, 1]], axis=1)
        for key in np.unique(keys, axis=0).tolist():
            picked = np.flatnonzero((keys == key).all(axis=1))
            dim = key[0]
            vectors = np.frombuffer(b"".join([blobs[i] for i in picked]), np.float32)
            matrix = self._matrices.get((dim, key[1], key[2]))
            if matrix is None:
                first = picked[0]
                path = graph_path(
                    self._graphs.folder, self._table, dim, columns[2][first], columns[3][first]
                )
                matrix = self._matrices[dim, key[1], key[2]] = _Matrix(dim, self._graphs, path)
            added = matrix.append(
                pos[picked],
                fields[picked],
                created[picked],
                vectors.reshape(len(picked), dim),
                [tags[i] for i in picked],
                [users[i] for i in picked],
            )
            for row_pos, row in zip(pos[picked].tolist(), added, strict=True):
                previous = self._rows.get(row_pos)
                if previous is not None:  # re-embedded: the older copy is dead
                    previous[0].kill(previous[1])
                self._rows[row_pos] = (matrix, row)

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
        conditions = _Conditions(where, self._codes, self._users_are_authors)
        matrix = self._matrices.get((len(query), conditions.agent, conditions.workspace))
        if matrix is None or matrix.size == 0 or norm == 0 or limit <= 0:
            return []
        return matrix.search(conditions, query / norm, limit, self._rows_in(matrix))

    def _rows_in(self, matrix: _Matrix) -> Callable[[Ints], Ints]:
        def rows_of(keys: Ints) -> Ints:
            found = (self._rows.get(key) for key in keys.tolist())
            return np.array([e[1] for e in found if e is not None and e[0] is matrix], np.int64)

        return rows_of


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
            best = index.search(where, vector, limit)
            if not best:
                return []
            found = rows(conn, [pos for pos, _ in best])
        return [Scored(found[pos], score) for pos, score in best if pos in found]

    while (result := await db.run(search)) is None:
        pass
    return result
