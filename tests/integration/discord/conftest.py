"""The fake Discord each adapter test runs against."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fakes.discord_rest import FakeDiscord
from tests.fakes.discord_world import DiscordWorld, build_world


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    discord_ = FakeDiscord()
    async with discord_.running():
        yield discord_


@pytest.fixture
def world(fake: FakeDiscord) -> DiscordWorld:
    return build_world(fake)
