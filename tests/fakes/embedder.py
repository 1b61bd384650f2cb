"""A deterministic embedder for tests: hashed bags of words, so texts sharing words are close."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from engine.embeddings import Vectors
from tests.fakes.mongo_wire import TEST_VECTOR_DIMENSIONS
from tests.fakes.openai_server import fake_embedding


class HashEmbedder:
    """Same vectors as the fake OpenAI server's embeddings endpoint, computed in-process."""

    def __init__(self, dimensions: int = TEST_VECTOR_DIMENSIONS) -> None:
        """The default size fits the MongoDB test server's vector index."""
        self._dimensions = dimensions

    @property
    def name(self) -> str:
        return f"test-hash-{self._dimensions}"

    @property
    def dimensions(self) -> int:
        return self._dimensions

    async def embed(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self._dimensions), dtype=np.float32)
        return np.stack([fake_embedding(t, self._dimensions) for t in texts]).astype(np.float32)


class RecordingEmbedder(HashEmbedder):
    """The test embedder, keeping every text it was asked to embed and counting its calls."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self.calls = 0

    async def embed(self, texts: Sequence[str]) -> Vectors:
        self.texts.extend(texts)
        self.calls += 1
        return await super().embed(texts)
