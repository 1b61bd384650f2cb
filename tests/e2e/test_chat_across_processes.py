"""The inspector's chat API of ``mnemo run`` when several processes serve one store: whichever
process runs a message's turn, the request that said it answers with its replies."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from engine.store import open_store
from engine.store.protocol import Store
from tests.e2e.mnemo_process import MnemoProcess, bot_environment
from tests.fakes.openai_server import FakeOpenAI

pytestmark = pytest.mark.slow

WAIT = 60.0
TOKEN = secrets.token_urlsafe(16)
DM = {"workspace": "e2e:W1", "kind": "dm", "channel": "D1", "user": "U1"}


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    """The bots' embedded store, opened from the test as another process would."""
    opened = await open_store(mongodb_uri=None, data_dir=tmp_path / "data")
    try:
        yield opened
    finally:
        await opened.close()


async def chat(http: aiohttp.ClientSession, bot: MnemoProcess, text: str) -> dict[str, Any]:
    """Say ``text`` through ``bot``'s chat API; its answer."""
    api = f"http://127.0.0.1:{bot.port}/inspector/api"
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with http.get(f"{api}/agents", headers=headers) as response:
        agent = (await response.json())["default_agent_id"]
    async with http.post(
        f"{api}/agents/{agent}/chat", json={**DM, "text": text}, headers=headers
    ) as response:
        assert response.status == 200, await response.text()
        answer: dict[str, Any] = await response.json()
        return answer


async def wait_pending(store: Store, count: int) -> None:
    """Return once ``count`` messages wait in the inbox (wrap in a timeout)."""
    while True:
        if await store.inbox.depth() >= count:
            return
        await asyncio.sleep(0.05)


async def test_a_chat_answered_by_another_process_returns_the_replies_it_delivered(
    tmp_path: Path, store: Store
) -> None:
    async with FakeOpenAI() as llm:
        env = bot_environment(
            OPENAI_API_KEY="sk-e2e",
            OPENAI_BASE_URL=llm.base_url,
            MNEMO_DATA_DIR=str(tmp_path / "data"),
            MNEMO_HTTP_HOST="127.0.0.1",
            MNEMO_HTTP_PORT="0",
            MNEMO_INSPECTOR_TOKEN=TOKEN,
            MNEMO_LOG_FORMAT="json",
        )
        timeout = aiohttp.ClientTimeout(total=WAIT)
        async with (
            aiohttp.ClientSession(timeout=timeout) as http,
            MnemoProcess(env, tmp_path, "runs-turns") as runner,
        ):
            # The first message's turn waits on the model, so its process holds the
            # conversation while the second message is said to the other process.
            llm.block()
            first = asyncio.create_task(chat(http, runner, "first: the garden"))
            async with asyncio.timeout(WAIT):
                await llm.wait_for_in_flight()
            async with MnemoProcess(env, tmp_path, "takes-messages") as taker:
                second = asyncio.create_task(chat(http, taker, "second: the tomatoes"))
                async with asyncio.timeout(WAIT):
                    await wait_pending(store, 2)
                llm.unblock()
                async with asyncio.timeout(WAIT):
                    answers = await asyncio.gather(first, second)
    assert [a["settled"] for a in answers] == [True, True]
    # The scripted model echoes what it was told last: each answer holds its own reply.
    (first_reply,) = answers[0]["replies"]
    (second_reply,) = answers[1]["replies"]
    assert first_reply.endswith("first: the garden")
    assert second_reply.endswith("second: the tomatoes")
    assert len(llm.chat_requests) == 2
