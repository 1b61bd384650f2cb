"""Weighted reciprocal-rank fusion: one ranking out of several, by rank rather than raw score.

BM25 scores and cosine similarities live on unrelated scales that shift from query to query;
ranks do not, so fusing ranks needs no per-query calibration (Cormack et al., SIGIR 2009).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Ranking[K: Hashable]:
    """Keys best first, and how much this ranking counts in the fusion."""

    keys: Sequence[K]
    weight: float = 1.0


def fuse_ranks[K: Hashable](rankings: Iterable[Ranking[K]], k: float) -> dict[K, float]:
    """Sum over rankings of ``weight / (k + rank)`` (rank from 1); absent keys add nothing.

    A larger ``k`` flattens the curve, so agreement between rankings outweighs one first place.
    """
    fused: dict[K, float] = {}
    for ranking in rankings:
        for rank, key in enumerate(ranking.keys, start=1):
            fused[key] = fused.get(key, 0.0) + ranking.weight / (k + rank)
    return fused
