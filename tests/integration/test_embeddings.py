"""The shipped local model and the OpenAI endpoint embedder, as the engine would use them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from bot.settings import SettingsError
from bot.wiring import build_embedder
from engine.embeddings import EmbeddingError, LocalEmbedder, OpenAIEmbedder
from engine.embeddings.local import INLINE_CHARS
from tests.fakes.openai_server import FakeOpenAI
from tests.harness import settings_for


@pytest.fixture(scope="module")
def local() -> LocalEmbedder:
    return LocalEmbedder()


async def test_local_vectors_are_unit_float32_rows(local: LocalEmbedder) -> None:
    vectors = await local.embed(["I love green tea", "The deploy failed at midnight"])

    assert vectors.shape == (2, local.dimensions)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)


async def test_local_model_ranks_the_related_memory_first(local: LocalEmbedder) -> None:
    memories = [
        "Alice's favourite drink is jasmine tea.",
        "The staging server runs out of disk every Friday.",
        "Bob is moving to Lisbon in March.",
    ]
    queries = ["what does Alice like to drink?", "why does staging break?", "where is Bob going?"]

    m = await local.embed(memories)
    q = await local.embed(queries)

    assert list(np.argmax(q @ m.T, axis=1)) == [0, 1, 2]


async def test_local_embedding_is_deterministic_and_batch_independent(
    local: LocalEmbedder,
) -> None:
    alone = await local.embed(["Carol plays the cello"])
    batched = await local.embed(["something else entirely", "Carol plays the cello"])

    np.testing.assert_allclose(alone[0], batched[1], rtol=1e-6)


async def test_local_texts_without_words_get_zero_rows(local: LocalEmbedder) -> None:
    vectors = await local.embed(["", "hello"])

    assert not vectors[0].any()
    assert vectors[1].any()


async def test_local_large_batch_runs_off_the_event_loop(local: LocalEmbedder) -> None:
    texts = [f"message number {i} about the quarterly roadmap" for i in range(200)]
    assert sum(map(len, texts)) > INLINE_CHARS
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    ticker = asyncio.create_task(tick())
    vectors = await local.embed(texts)
    ticker.cancel()

    assert vectors.shape == (200, local.dimensions)
    assert ticks > 1  # the loop kept running while the batch was embedded


async def test_local_embeds_a_long_passage_whole(local: LocalEmbedder) -> None:
    head = "The launch checklist covers the database migration. "
    tail = "Finally, remember to rotate the payment provider keys."
    long_passage = head * 200 + tail

    with_tail, without_tail = await local.embed([long_passage, head * 200])

    assert not np.allclose(with_tail, without_tail)  # words past 512 tokens still count


@pytest.fixture
async def llm() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI(embedding_dimensions=32) as server:
        yield server


async def test_openai_embedder_batches_and_keeps_input_order(llm: FakeOpenAI) -> None:
    embedder = OpenAIEmbedder(
        model="nomic-embed-text", dimensions=32, base_url=llm.base_url, batch_size=2
    )
    texts = ["alpha beta", "gamma", "alpha beta", "delta", "epsilon"]

    vectors = await embedder.embed(texts)
    await embedder.aclose()

    assert vectors.shape == (5, 32)
    np.testing.assert_allclose(vectors[0], vectors[2])
    assert not np.allclose(vectors[0], vectors[1])
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    assert [len(r["input"]) for r in llm.requests] == [2, 2, 1]
    assert "dimensions" not in llm.requests[0]


async def test_openai_embedder_requests_shortened_text_embedding_3_vectors(
    llm: FakeOpenAI,
) -> None:
    embedder = OpenAIEmbedder(model="text-embedding-3-small", dimensions=16, base_url=llm.base_url)

    vectors = await embedder.embed(["hello"])
    await embedder.aclose()

    assert vectors.shape == (1, 16)
    assert llm.requests[0]["dimensions"] == 16
    assert embedder.name == "openai:text-embedding-3-small:16"


async def test_openai_embedder_reports_a_dimension_mismatch(llm: FakeOpenAI) -> None:
    embedder = OpenAIEmbedder(model="nomic-embed-text", dimensions=768, base_url=llm.base_url)

    with pytest.raises(EmbeddingError, match="set the embedding dimensions"):
        await embedder.embed(["hello"])
    await embedder.aclose()


async def test_openai_embedder_empty_input_makes_no_request(llm: FakeOpenAI) -> None:
    embedder = OpenAIEmbedder(model="text-embedding-3-small", base_url=llm.base_url)

    vectors = await embedder.embed([])
    await embedder.aclose()

    assert vectors.shape == (0, 1536)
    assert llm.requests == []


def test_unknown_openai_model_needs_its_dimensions() -> None:
    with pytest.raises(EmbeddingError, match="set its dimensions"):
        OpenAIEmbedder(model="mystery-embed", base_url="http://127.0.0.1:9/v1")


async def test_an_unknown_model_s_size_is_asked_of_the_server_once(llm: FakeOpenAI) -> None:
    embedder = await OpenAIEmbedder.connect(model="nomic-embed-text", base_url=llm.base_url)

    vectors = await embedder.embed(["green tea", "black coffee"])
    await embedder.aclose()

    assert embedder.dimensions == 32
    assert vectors.shape == (2, 32)
    assert [len(r["input"]) for r in llm.requests] == [1, 2]  # the probe, then the texts


async def test_the_embedding_dimensions_setting_spares_the_probe(
    llm: FakeOpenAI, tmp_path: Path
) -> None:
    settings = settings_for(
        tmp_path,
        llm,
        MNEMO_EMBEDDING_MODEL="nomic-embed-text",
        MNEMO_EMBEDDING_DIMENSIONS=32,
    )

    embedder = await build_embedder(settings)

    assert (embedder.name, llm.requests) == ("openai:nomic-embed-text:32", [])


async def test_a_server_that_cannot_answer_the_probe_is_one_line_naming_the_settings(
    tmp_path: Path,
) -> None:
    async with FakeOpenAI() as server:
        settings = settings_for(tmp_path, server, MNEMO_EMBEDDING_MODEL="nomic-embed-text")
    # The server has stopped: its port refuses connections.

    with pytest.raises(SettingsError) as raised:
        async with asyncio.timeout(5):
            await build_embedder(settings)

    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith("MNEMO_EMBEDDING_MODEL: ")
    assert "could not be reached" in message
    assert "MNEMO_EMBEDDING_DIMENSIONS" in message
