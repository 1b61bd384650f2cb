"""An in-memory copy of a table's embeddings, ranked with numpy, kept fresh across processes.

Each row that carries an embedding has a ``vec_rev`` taken from ``vectors_meta`` when it was
written, and every deletion of such a row bumps ``vectors_meta.deletes``. Before each search the
copy loads rows with a newer ``vec_rev`` and, when ``deletes`` moved, drops rows that are gone,
so writes by this or any other process on the same file are seen.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from engine.store.protocol import RecordFilter
from engine.store.sqlite._time import to_micros

type Ints = npt.NDArray[np.int64]
type Codes = npt.NDArray[np.int32]
type Mask = npt.NDArray[np.bool_]
type Floats = npt.NDArray[np.float32]

#: Below this share of matching rows, scoring only those rows beats scoring them all.
_GATHER_SHARE = 0.12
_UNKNOWN = -1


class _Matrix:
    """Rows of one embedding dimension: normalised vectors and the fields reads filter on."""

    def __init__(self, dim: int) -> None:
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
        # (code, row) pairs for the many-valued fields: tags and users
        self.tag_pairs: list[tuple[int, int]] = []
        self.user_pairs: list[tuple[int, int]] = []
        self._tag_arrays: tuple[Codes, Ints] | None = None
        self._user_arrays: tuple[Codes, Ints] | None = None

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
        fields = np.zeros((new_cap, 5), np.int32)
        fields[: self.size] = self.fields[: self.size]
        self.fields = fields

    def append(
        self,
        rows: Sequence[tuple[int, Sequence[int], int, Sequence[int], Sequence[int]]],
        vectors: Floats,
    ) -> list[int]:
        """Add rows (pos, field codes, created, tag codes, user codes); returns their indexes."""
        self._reserve(len(rows))
        start = self.size
        end = start + len(rows)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        self.vectors[start:end] = vectors / np.where(norms == 0, 1, norms)
        self.alive[start:end] = True
        for offset, (pos, codes, created, tags, users) in enumerate(rows):
            row = start + offset
            self.pos[row] = pos
            self.created[row] = created
            self.fields[row] = codes
            self.tag_pairs.extend((tag, row) for tag in tags)
            self.user_pairs.extend((user, row) for user in users)
        self._tag_arrays = self._user_arrays = None
        self.size = end
        return list(range(start, end))

    def kill(self, row: int) -> None:
        if self.alive[row]:
            self.alive[row] = False
            self.dead += 1

    def keep_only(self, live: Ints) -> None:
        alive = self.alive[: self.size]
        gone = alive & ~np.isin(self.pos[: self.size], live)
        self.dead += int(gone.sum())
        alive &= ~gone

    def _any_of(self, pairs: list[tuple[int, int]], cache: str, wanted: list[int]) -> Mask:
        arrays: tuple[Codes, Ints] | None = getattr(self, cache)
        if arrays is None:
            table = np.array(pairs, np.int64).reshape(-1, 2)
            arrays = (table[:, 0].astype(np.int32), table[:, 1])
            setattr(self, cache, arrays)
        codes, rows = arrays
        mask = np.zeros(self.size, np.bool_)
        mask[rows[np.isin(codes, wanted)]] = True
        return mask

    def search(self, conditions: _Conditions, query: Floats, limit: int) -> list[tuple[int, float]]:
        n = self.size
        fields = self.fields[:n]
        mask = self.alive[:n] & (fields[:, 0] == conditions.agent)
        mask &= fields[:, 1] == conditions.workspace
        mask &= np.isin(fields[:, 2], conditions.scopes)
        if conditions.start is not None:
            mask &= self.created[:n] >= conditions.start
        if conditions.end is not None:
            mask &= self.created[:n] <= conditions.end
        if conditions.channel is not None:
            mask &= fields[:, 3] == conditions.channel
        if conditions.author is not None:
            mask &= fields[:, 4] == conditions.author
        if conditions.tags is not None:
            mask &= self._any_of(self.tag_pairs, "_tag_arrays", conditions.tags)
        if conditions.user is not None:
            mask &= self._any_of(self.user_pairs, "_user_arrays", [conditions.user])
        rows = np.flatnonzero(mask)
        if rows.size == 0:
            return []
        # einsum, not BLAS: BLAS threads fight the event loop for cores and stall for ms.
        if rows.size < _GATHER_SHARE * n:
            scores = np.einsum("ij,j->i", self.vectors[rows], query)
        else:
            scores = np.einsum("ij,j->i", self.vectors[:n], query)[rows]
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
        self.scopes = [code(s) for s in where.scopes]
        self.start = None if where.start is None else to_micros(where.start)
        self.end = None if where.end is None else to_micros(where.end)
        self.channel = None if where.channel is None else code(where.channel)
        self.tags = [code(t) for t in where.tags] if where.tags else None
        self.author = code(where.user) if where.user is not None and users_are_authors else None
        self.user = code(where.user) if where.user is not None and not users_are_authors else None


class VectorIndex:
    """The embeddings of ``messages`` or ``passages``; used only on the store's own thread."""

    def __init__(self, table: str, select: str) -> None:
        """``select`` lists: pos, vec_rev, agent_id, workspace, scope, channel, author,
        tags (JSON or NULL), users (JSON or NULL), created_at, embedding."""
        self._table = table
        self._select = select
        self._users_are_authors = table == "messages"
        self._reset()

    def _reset(self) -> None:
        self._rev = 0
        self._deletes: int | None = None
        self._codes: dict[str, int] = {}
        self._matrices: dict[int, _Matrix] = {}
        self._rows: dict[int, tuple[_Matrix, int]] = {}

    def _code(self, value: str) -> int:
        code = self._codes.get(value)
        if code is None:
            code = self._codes[value] = len(self._codes)
        return code

    def refresh(self, conn: sqlite3.Connection) -> None:
        """Catch up with the file; call inside a read transaction."""
        rev, deletes = conn.execute(
            "SELECT rev, deletes FROM vectors_meta WHERE tbl = ?", (self._table,)
        ).fetchone()
        if self._deletes is None:
            self._deletes = deletes
        if rev > self._rev:
            self._load(conn, rev)
        if deletes != self._deletes:
            live = np.fromiter(
                (
                    p
                    for (p,) in conn.execute(
                        f"SELECT pos FROM {self._table} WHERE vec_rev IS NOT NULL"
                    )
                ),
                np.int64,
            )
            for matrix in self._matrices.values():
                matrix.keep_only(live)
            self._deletes = deletes
            total = sum(m.size for m in self._matrices.values())
            dead = sum(m.dead for m in self._matrices.values())
            if dead > max(1024, total // 4):
                self._reset()
                self.refresh(conn)

    def _load(self, conn: sqlite3.Connection, rev: int) -> None:
        cursor = conn.execute(
            f"SELECT {self._select} FROM {self._table} "
            "WHERE vec_rev > ? AND vec_rev <= ? ORDER BY vec_rev",
            (self._rev, rev),
        )
        batches: dict[
            int, tuple[list[tuple[int, list[int], int, list[int], list[int]]], list[bytes]]
        ] = {}
        for pos, _, agent, workspace, scope, channel, author, tags, users, created, blob in cursor:
            dim = len(blob) // 4
            rows, blobs = batches.setdefault(dim, ([], []))
            codes = [
                self._code(agent),
                self._code(workspace),
                self._code(scope),
                self._code(channel),
                self._code(author),
            ]
            tag_codes = [self._code(t) for t in json.loads(tags)] if tags else []
            user_codes = [self._code(u) for u in json.loads(users)] if users else []
            rows.append((pos, codes, created, tag_codes, user_codes))
            blobs.append(blob)
        for dim, (rows, blobs) in batches.items():
            matrix = self._matrices.get(dim)
            if matrix is None:
                matrix = self._matrices[dim] = _Matrix(dim)
            vectors = np.frombuffer(b"".join(blobs), np.float32).reshape(len(rows), dim)
            for (pos, *_), row in zip(rows, matrix.append(rows, vectors), strict=True):
                previous = self._rows.get(pos)
                if previous is not None:
                    previous[0].kill(previous[1])
                self._rows[pos] = (matrix, row)
        self._rev = rev

    def search(
        self, where: RecordFilter, vector: Sequence[float], limit: int
    ) -> list[tuple[int, float]]:
        """(pos, cosine similarity) of the best ``limit`` visible rows, best first."""
        query = np.asarray(vector, np.float32)
        norm = float(np.linalg.norm(query))
        matrix = self._matrices.get(len(query))
        if matrix is None or matrix.size == 0 or norm == 0 or limit <= 0:
            return []
        conditions = _Conditions(where, self._codes, self._users_are_authors)
        return matrix.search(conditions, query / norm, limit)
