"""An approximate nearest-neighbour graph (HNSW, usearch) over one agent's embeddings.

An exact scan costs time in proportion to the rows an agent and workspace hold; past a few tens
of thousands a graph answers faster, and its candidates are then filtered by audience and
scored exactly against the in-memory matrix (see ``_vectors``). The graph is keyed by the
row's ``pos``, saved to a file beside the database, and reconciled with the matrix when read
back: rows it lacks are added, keys of rows that are gone are removed, and a file that is
missing or unreadable is rebuilt from the matrix, a chunk per store operation.

Sentence embeddings crowd around a common direction, where a graph over raw cosine finds few
of the true neighbours; the graph therefore holds each vector minus the rows' mean, normalised
(the mean is saved with it), and 300 candidates are rescored exactly. With LoCoMo questions
among 100k messages, centring and 300 candidates instead of 100 took recall@10 against the
exact scan from 0.65 to 0.96 (bench/recall_scale.py).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from usearch.index import Index

type Ints = npt.NDArray[np.int64]
type Floats = npt.NDArray[np.float32]

#: Graph degree and search breadth (usearch's defaults, a shorter search while adding).
_CONNECTIVITY = 16
_EXPANSION_ADD = 32
_EXPANSION_SEARCH = 128


@dataclass(frozen=True, slots=True)
class GraphSettings:
    """When a matrix gets a graph and where graphs are saved (None: kept in memory only)."""

    #: Below this many rows, the exact scan is as fast and needs no graph.
    min_rows: int = 20_000
    #: Rows added to a graph at a time; batches go on for ``seconds`` per store operation,
    #: so building a graph does not stall the others (searches scan exactly meanwhile).
    batch: int = 256
    folder: Path | None = None
    seconds: float = 0.02
    #: Candidates taken from the graph per search, then filtered and scored exactly.
    candidates: int = 300


class Graph:
    """The HNSW graph of one matrix, keyed by ``pos``, over centred vectors in int8.

    ``mean`` gives the rows' mean, the centre, when no saved graph can be read.
    """

    def __init__(self, dim: int, path: Path | None, mean: Callable[[], Floats]) -> None:
        self.path = path
        saved = _read(path, dim)
        if saved is None:
            self.index, self.centre = _empty(dim), np.asarray(mean(), np.float32)
        else:
            self.index, self.centre = saved
        #: Additions and removals since the graph was last saved; whether any were removals
        #: (a forgotten row's vector must not outlive it in the file).
        self.changes = 0
        self.removed = False

    def positions(self) -> Ints:
        return np.asarray(self.index.keys, np.int64)

    def contains(self, keys: Ints) -> npt.NDArray[np.bool_]:
        return np.asarray(self.index.contains(keys), np.bool_).reshape(-1)

    def add(self, keys: Ints, vectors: Floats) -> None:
        if len(keys):
            self.index.add(keys, self._centred(vectors), threads=1)
            self.changes += len(keys)

    def remove(self, keys: Ints) -> None:
        if len(keys):
            self.changes += int(self.index.remove(keys))
            self.removed = True

    def nearest(self, query: Floats, count: int) -> Ints:
        """Keys of about the ``count`` rows nearest ``query``, nearest first."""
        found = self.index.search(self._centred(query[None, :])[0], count, threads=1)
        return np.asarray(found.keys, np.int64).reshape(-1)

    def _centred(self, vectors: Floats) -> Floats:
        moved = vectors - self.centre
        norms = np.linalg.norm(moved, axis=1, keepdims=True)
        centred: Floats = (moved / np.where(norms == 0, 1, norms)).astype(np.float32)
        return centred

    def save(self) -> None:
        """Write the graph beside the database (through a temporary file, then renamed)."""
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        centre = _centre_path(self.path)
        _write(centre, lambda partial: partial.write_bytes(self.centre.tobytes()))
        _write(self.path, lambda partial: self.index.save(str(partial)))
        self.changes = 0
        self.removed = False


def graph_path(
    folder: Path | None, table: str, dim: int, agent: str, workspace: str
) -> Path | None:
    """Where the graph of one table's rows of an agent and workspace is saved."""
    if folder is None:
        return None
    name = hashlib.sha256(f"{table}\0{dim}\0{agent}\0{workspace}".encode()).hexdigest()[:24]
    return folder / f"{table}-{name}.usearch"


def _empty(dim: int) -> Index:
    return Index(
        ndim=dim,
        metric="cos",
        dtype="i8",
        connectivity=_CONNECTIVITY,
        expansion_add=_EXPANSION_ADD,
        expansion_search=_EXPANSION_SEARCH,
    )


def _write(path: Path, write: Callable[[Path], object]) -> None:
    """Write ``path`` whole or not at all: into a temporary file, then renamed."""
    partial = path.with_name(f"{path.name}.partial")
    write(partial)
    os.replace(partial, path)


def _centre_path(path: Path) -> Path:
    return path.with_suffix(".centre")


def _read(path: Path | None, dim: int) -> tuple[Index, Floats] | None:
    """The saved graph and its centre, or None when either is missing, unreadable or of
    another dimension."""
    if path is None or not path.exists() or not _centre_path(path).exists():
        return None
    centre = np.frombuffer(_centre_path(path).read_bytes(), np.float32)
    try:
        index = Index.restore(str(path))
    except (ValueError, RuntimeError, OSError):
        return None
    if index is None or index.ndim != dim or len(centre) != dim:
        return None
    # A saved graph keeps neither breadth: left to usearch's defaults, adding took 0.7 ms.
    index.expansion_add = _EXPANSION_ADD  # type: ignore[misc]  # setter the stubs miss
    index.expansion_search = _EXPANSION_SEARCH  # type: ignore[misc]
    return index, centre
