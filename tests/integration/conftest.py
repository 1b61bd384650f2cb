"""Fixtures shared by the integration tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fakes.openai_server import FakeOpenAI


@pytest.fixture
async def llm() -> AsyncIterator[FakeOpenAI]:
    """The scripted model server, as OpenAI's API behaves (set ``quirks`` for a local one)."""
    async with FakeOpenAI() as server:
        yield server
