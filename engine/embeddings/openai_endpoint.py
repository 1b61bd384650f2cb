"""Embeddings from an OpenAI-compatible `/embeddings` endpoint (production default)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Self

import numpy as np
import openai
from openai import AsyncOpenAI

from engine.embeddings.protocol import EmbeddingError, Vectors, normalise_rows

KNOWN_DIMENSIONS = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}
# The endpoint accepts up to 2048 inputs per request; smaller batches keep each request quick.
DEFAULT_BATCH_SIZE = 256
# Asking a server for its model's size is one short request, not retried: at start a wrong URL
# or model should be reported at once.
PROBE_TIMEOUT = 10.0
_PROBE_TEXT = "How many dimensions do your vectors have?"


class OpenAIEmbedder:
    """Embeds through the endpoint in batches; the SDK retries rate limits and server errors."""

    def __init__(
        self,
        *,
        model: str = "text-embedding-3-small",
        dimensions: int | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        timeout: float = 30.0,
        max_retries: int = 3,
    ) -> None:
        known = KNOWN_DIMENSIONS.get(model)
        if dimensions is None and known is None:
            raise EmbeddingError(
                f"embedding model {model!r} has no known size: set its dimensions explicitly"
            )
        self._model = model
        self._dimensions = dimensions or known or 0
        # text-embedding-3 models shorten vectors on request; others only have their own size.
        self._request_dimensions = dimensions is not None and model.startswith("text-embedding-3")
        self._batch_size = batch_size
        self._client = AsyncOpenAI(
            base_url=base_url, api_key=api_key or "unset", timeout=timeout, max_retries=max_retries
        )

    @classmethod
    async def connect(
        cls,
        *,
        model: str,
        dimensions: int | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
    ) -> Self:
        """An embedder for ``model``; when its size is neither given nor known (any model of
        vLLM, Ollama, llama.cpp...), the server embeds one probe text and the vector's length
        is the size. Raises ``EmbeddingError`` saying why when the server cannot answer."""
        if dimensions is None and model not in KNOWN_DIMENSIONS:
            dimensions = await _probe_dimensions(model, base_url, api_key)
        return cls(model=model, dimensions=dimensions, base_url=base_url, api_key=api_key)

    @property
    def name(self) -> str:
        return f"openai:{self._model}:{self._dimensions}"

    @property
    def dimensions(self) -> int:
        return self._dimensions

    async def aclose(self) -> None:
        await self._client.close()

    async def embed(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self._dimensions), dtype=np.float32)
        batches = [
            await self._embed_batch(list(texts[i : i + self._batch_size]))
            for i in range(0, len(texts), self._batch_size)
        ]
        return normalise_rows(np.concatenate(batches))

    async def _embed_batch(self, batch: list[str]) -> Vectors:
        # The endpoint rejects empty strings; a space embeds as "nothing in particular".
        inputs = [text or " " for text in batch]
        try:
            if self._request_dimensions:
                response = await self._client.embeddings.create(
                    model=self._model, input=inputs, dimensions=self._dimensions
                )
            else:
                response = await self._client.embeddings.create(model=self._model, input=inputs)
        except openai.APIError as exc:
            raise EmbeddingError(f"embedding endpoint failed for {self._model}: {exc}") from exc
        rows = sorted(response.data, key=lambda item: item.index)
        vectors = np.asarray([row.embedding for row in rows], dtype=np.float32)
        if vectors.shape != (len(batch), self._dimensions):
            raise EmbeddingError(
                f"{self._model} returned vectors of shape {vectors.shape}, expected "
                f"({len(batch)}, {self._dimensions}): set the embedding dimensions to match"
            )
        return vectors


async def _probe_dimensions(model: str, base_url: str | None, api_key: str | None) -> int:
    where = base_url or "the OpenAI API"
    async with AsyncOpenAI(
        base_url=base_url, api_key=api_key or "unset", timeout=PROBE_TIMEOUT, max_retries=0
    ) as client:
        try:
            response = await client.embeddings.create(model=model, input=[_PROBE_TEXT])
        except openai.APIStatusError as exc:
            raise EmbeddingError(
                f"{where} refused to embed with {model!r} (HTTP {exc.status_code})"
            ) from exc
        except openai.APIError as exc:
            cause = exc.__cause__ or exc
            raise EmbeddingError(
                f"{where} could not be reached to embed with {model!r} ({cause})"
            ) from exc
    if not response.data or not response.data[0].embedding:
        raise EmbeddingError(f"{where} returned no vector for {model!r}")
    return len(response.data[0].embedding)
