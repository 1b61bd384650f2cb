"""What the engine needs from an embedding model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

Vectors = NDArray[np.float32]


class EmbeddingError(RuntimeError):
    """Texts could not be embedded (endpoint down, bad model or dimensions)."""


class Embedder(Protocol):
    """Turns texts into unit-length float32 vectors of a fixed size.

    `name` identifies the model in stored records, so vectors of different models are never
    compared. `embed` never blocks the event loop: CPU work runs in a thread.
    """

    @property
    def name(self) -> str: ...

    @property
    def dimensions(self) -> int: ...

    async def embed(self, texts: Sequence[str]) -> Vectors:
        """One row per text, shape (len(texts), dimensions), each row L2-normalised."""
        ...


def normalise_rows(vectors: Vectors) -> Vectors:
    """Scale rows to unit length (all-zero rows stay zero)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)
