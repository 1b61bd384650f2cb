"""One matrix of embeddings: rows of one dimension, agent and workspace, the fields reads
filter on as interned codes, and, once large, its nearest-neighbour graph (``_ann``).

Vectors are kept as int8, each row with its own scale (a quarter of float32's memory: 256 MB
instead of 1 GB for a million 256-d rows). A unit vector's largest component maps to 127, so a
component is off by at most half a step and a cosine by under 2e-3 (3e-4 on average);
bench/recall_scale.py prints how much of the float32 scan's top 10 the int8 scan finds.

Removing a row from the matrix removes it from the graph, so every delete of the store reaches
the graph without knowing of it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from itertools import chain
from pathlib import Path

import numpy as np
import numpy.typing as npt

from engine.store.protocol import RecordFilter
from engine.store.sqlite._ann import Graph, GraphSettings
from engine.store.sqlite._row_groups import RowsByCode
from engine.store.sqlite._time import to_micros

type Ints = npt.NDArray[np.int64]
type Codes = npt.NDArray[np.int32]
type Mask = npt.NDArray[np.bool_]
type Floats = npt.NDArray[np.float32]
type Int8s = npt.NDArray[np.int8]

#: Below this share of matching rows, scoring only those rows beats scoring them all.
_GATHER_SHARE = 0.12
#: Rows dequantised at a time when a graph's centre is computed.
_MEAN_CHUNK = 16_384
_UNKNOWN = -1


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


def quantise(vectors: Floats) -> tuple[Int8s, Floats]:
    """Rows scaled to unit length, as int8 and a scale per row (an all-zero row stays zero)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit = vectors / np.where(norms == 0, 1, norms)
    peaks = np.abs(unit).max(axis=1, initial=0.0)
    scales = np.where(peaks == 0, 1, peaks / 127).astype(np.float32)
    quantised: Int8s = np.rint(unit / scales[:, None]).astype(np.int8)
    return quantised, scales


class Matrix:
    """Rows of one embedding dimension: normalised vectors and the fields reads filter on."""

    def __init__(self, dim: int, graphs: GraphSettings, path: Path | None) -> None:
        self.dim = dim
        self.size = 0
        self.dead = 0
        cap = 1024
        self.vectors: Int8s = np.zeros((cap, dim), np.int8)
        #: Each row's vector is ``vectors[row] * scales[row]``.
        self.scales: Floats = np.zeros(cap, np.float32)
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
        #: The rows of each channel and of each author, to tell a search whose filter few
        #: rows pass before asking the graph, and to scan only those rows.
        self._by_channel = RowsByCode()
        self._by_author = RowsByCode()

    def _reserve(self, extra: int) -> None:
        cap = len(self.pos)
        if self.size + extra <= cap:
            return
        # Twice as many: the rows not yet used are zeros never written, which the system
        # gives no memory until they are.
        new_cap = max(cap * 2, self.size + extra)
        vectors = np.zeros((new_cap, self.dim), np.int8)
        vectors[: self.size] = self.vectors[: self.size]
        self.vectors = vectors
        self.scales = np.resize(self.scales, new_cap)
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
        quantised, scales = quantise(vectors)
        self.vectors[rows.start : rows.stop] = quantised
        self.scales[rows.start : rows.stop] = scales
        self.pos[rows.start : rows.stop] = pos
        self.fields[rows.start : rows.stop] = fields
        self.created[rows.start : rows.stop] = created
        self.alive[rows.start : rows.stop] = True
        self.tags.extend(rows.start, tags)
        self.users.extend(rows.start, users)
        self.size = rows.stop
        self._by_channel.extend(rows.start, fields[:, 3])
        self._by_author.extend(rows.start, fields[:, 4])
        return rows

    def at_most(self, conditions: Conditions) -> int:
        """An upper bound on the rows ``conditions`` let through, from their channel and
        author alone."""
        return self._narrowest(conditions)[0]

    def _narrowest(self, conditions: Conditions) -> tuple[int, RowsByCode | None, int]:
        """The fewest rows ``conditions`` may let through by their channel or author: how
        many, and the group and code that hold them (None: every row)."""
        best: tuple[int, RowsByCode | None, int] = (self.size, None, 0)
        for grouped, code in (
            (self._by_channel, conditions.channel),
            (self._by_author, conditions.author),
        ):
            if code is not None and grouped.count(code) < best[0]:
                best = (grouped.count(code), grouped, code)
        return best

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
            self.graph = Graph(self.dim, self._graph_path, self._mean)
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
            graph.add(self.pos[rows], self.vectors_of(rows))
            self.in_graph[rows] = True
            self.offered = stop
            if time.perf_counter() > until:
                break
        complete = self.offered == self.size
        if graph.removed or (complete and graph.changes > max(settings.batch, self.size // 10)):
            graph.save()
        return complete

    def _admitted(self, conditions: Conditions, rows: Ints | slice) -> Mask:
        """Which of ``rows`` are alive and pass ``conditions`` (agent and workspace are the
        matrix's own: see ``_vectors.VectorIndex``)."""
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
        self, conditions: Conditions, query: Floats, limit: int, rows_of: Callable[[Ints], Ints]
    ) -> list[tuple[int, float]]:
        """The best ``limit`` rows: from the graph's candidates when it is complete and enough
        of them pass the filter, else by scanning every row, or at once only the rows of the
        channel or author the filter names when they are few."""
        breadth = max(limit, self._graphs.candidates)
        # Too few of the graph's candidates would pass a filter that lets through fewer than
        # ``limit`` in ``breadth`` rows (a channel's own rows): the scan answers at once.
        count, grouped, code = self._narrowest(conditions)
        rare = count * breadth < limit * self.size
        if self.graph is not None and self.offered == self.size and not rare:
            keys = self.graph.nearest(query, breadth)
            candidates = rows_of(keys)
            candidates = candidates[self._admitted(conditions, candidates)]
            if len(candidates) >= limit:
                return self._best(candidates, self._scores(candidates, query), limit)
        n = self.size
        if rare and grouped is not None:
            few = grouped.rows(code).astype(np.int64)
            few = few[self._admitted(conditions, few)]
            return self._best(few, self._scores(few, query), limit) if few.size else []
        mask = self._admitted(conditions, slice(0, n))
        rows = np.flatnonzero(mask)
        if rows.size == 0:
            return []
        if rows.size < _GATHER_SHARE * n:
            scores = self._scores(rows, query)
        else:
            scores = self._scores(slice(0, n), query)[rows]
        return self._best(rows, scores, limit)

    def _scores(self, rows: Ints | slice, query: Floats) -> Floats:
        """Cosine of ``rows`` with the unit ``query``.

        einsum, not BLAS: BLAS threads fight the event loop for cores and stall for ms; and
        einsum casts the int8 rows a buffer at a time, never the whole matrix at once.
        """
        dots: Floats = np.einsum("ij,j->i", self.vectors[rows], query)
        return dots * self.scales[rows]

    def vectors_of(self, rows: Ints) -> Floats:
        """The (unit, float32) vectors of ``rows``."""
        vectors: Floats = self.vectors[rows].astype(np.float32) * self.scales[rows, None]
        return vectors

    def _mean(self) -> Floats:
        """The mean of the live rows, read a chunk at a time."""
        total = np.zeros(self.dim, np.float64)
        for start in range(0, self.size, _MEAN_CHUNK):
            chunk = np.arange(start, min(start + _MEAN_CHUNK, self.size))
            total += self.vectors_of(chunk[self.alive[chunk]]).sum(axis=0)
        live = self.size - int((~self.alive[: self.size]).sum())
        mean: Floats = (total / max(live, 1)).astype(np.float32)
        return mean

    def _best(self, rows: Ints, scores: Floats, limit: int) -> list[tuple[int, float]]:
        k = min(limit, rows.size)
        best = np.argpartition(-scores, k - 1)[:k] if k < rows.size else np.arange(rows.size)
        best = best[np.argsort(-scores[best], kind="stable")]
        return [(int(self.pos[rows[i]]), float(scores[i])) for i in best]


class Conditions:
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
