"""The embedded default model: static token vectors distilled from all-MiniLM-L6-v2.

The weights (6.8 MB, int8) and the MiniLM WordPiece tokenizer ship in `engine/data`, so
archival search works offline with no torch and nothing downloaded. Each text is the mean of
its tokens' vectors: ~40 µs for a chat message, so it can sit on the per-message hot path.
"""

from __future__ import annotations

import asyncio
import gzip
import io
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np
from numpy.typing import NDArray
from tokenizers import Tokenizer

from engine.embeddings.protocol import Vectors, normalise_rows

MODEL_NAME = "mnemo-minilm-static-256-v1"
_WEIGHTS_FILE = "minilm-static-256.npz.gz"
_TOKENIZER_FILE = "minilm-tokenizer.json.gz"
# Below this many characters a batch embeds in well under 0.2 ms, less than a hop to a thread
# costs, so it runs inline; larger batches go to a worker thread.
INLINE_CHARS = 4_000


@dataclass(frozen=True, slots=True)
class _StaticModel:
    tokenizer: Tokenizer
    vectors: NDArray[np.int8]  # (vocabulary, dimensions), one row per WordPiece token
    scales: NDArray[np.float32]  # (vocabulary,), row i is vectors[i] * scales[i]


@cache
def _load_model() -> _StaticModel:
    """Read the shipped files once per process; every LocalEmbedder shares them."""
    data = resources.files("engine.data")
    raw = gzip.decompress(data.joinpath(_WEIGHTS_FILE).read_bytes())
    with np.load(io.BytesIO(raw)) as weights:
        vectors = weights["vectors"]
        scales = weights["scales"]
    tokenizer = Tokenizer.from_str(
        gzip.decompress(data.joinpath(_TOKENIZER_FILE).read_bytes()).decode()
    )
    tokenizer.no_padding()
    tokenizer.no_truncation()  # a static model has no length limit: long passages use all words
    return _StaticModel(tokenizer, vectors, scales)


class LocalEmbedder:
    """Embeds in-process from shipped weights; see `engine.embeddings` for why this model."""

    def __init__(self) -> None:
        self._model = _load_model()

    @property
    def name(self) -> str:
        return MODEL_NAME

    @property
    def dimensions(self) -> int:
        return int(self._model.vectors.shape[1])

    async def embed(self, texts: Sequence[str]) -> Vectors:
        """Texts with no known word (empty, emoji only) get an all-zero row."""
        if sum(len(text) for text in texts) <= INLINE_CHARS:
            return self.embed_now(texts)
        return await asyncio.to_thread(self.embed_now, texts)

    def embed_now(self, texts: Sequence[str]) -> Vectors:
        """The synchronous computation, for callers already off the event loop."""
        model = self._model
        encodings = model.tokenizer.encode_batch_fast(list(texts), add_special_tokens=False)
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for row, encoding in enumerate(encodings):
            ids = encoding.ids
            if ids:
                tokens = model.vectors[ids].astype(np.float32) * model.scales[ids, None]
                out[row] = tokens.sum(axis=0)
        return normalise_rows(out)
