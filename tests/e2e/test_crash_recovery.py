"""Kill the bot with SIGKILL at each stage of a turn, restart it, and check that every
accepted message got exactly one reply as the user sees it, on both stores."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.bot_process import BotProcess, crash_bot_environment
from tests.e2e.platform_sink import Hold, PlatformSink
from tests.fakes.openai_server import FakeOpenAI

pytestmark = pytest.mark.slow

WAIT = 60.0


@dataclass
class World:
    llm: FakeOpenAI
    sink: PlatformSink
    env: dict[str, str]
    logs: Path

    def bot(self, name: str) -> BotProcess:
        return BotProcess(self.env, self.logs / f"{name}.log")

    async def expect_one_reply_each(self, texts: list[str]) -> None:
        async with asyncio.timeout(WAIT):
            await self.sink.wait_posts(len(texts))
        await asyncio.sleep(1.0)  # room for a wrong second post to show up
        for text in texts:
            posts = self.sink.posts_of(text)
            assert len(posts) == 1, (text, self.sink.posts)
        assert len(self.sink.posts) == len(texts)


@pytest.fixture(params=["sqlite", "mongo"])
async def world(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[World]:
    env = await crash_bot_environment(request.param, tmp_path / "data")
    async with FakeOpenAI() as llm, PlatformSink() as sink:
        env["OPENAI_BASE_URL"] = llm.base_url
        env["MNEMO_TEST_SINK"] = sink.url
        yield World(llm, sink, env, tmp_path)


async def accepted(bot: BotProcess, text: str, channel: str) -> str:
    result = await bot.say(text, channel=channel)
    assert result["outcome"] == "accepted", result
    return text


async def test_killed_after_the_inbox_write(world: World) -> None:
    world.llm.block()
    async with world.bot("first") as bot:
        texts = [await accepted(bot, f"inbox-{n}", f"C{n}") for n in range(3)]
        await bot.kill()
    world.llm.unblock()
    async with world.bot("second"):
        await world.expect_one_reply_each(texts)


async def test_killed_during_the_model_call(world: World) -> None:
    world.llm.block()
    async with world.bot("first") as bot:
        texts = [await accepted(bot, f"llm-{n}", f"C{n}") for n in range(2)]
        async with asyncio.timeout(WAIT):
            await world.llm.wait_for_in_flight(2)
        await bot.kill()
    world.llm.unblock()
    async with world.bot("second"):
        await world.expect_one_reply_each(texts)


async def test_killed_after_the_outbox_write(world: World) -> None:
    world.sink.hold_deliveries(Hold.BEFORE_POST)
    async with world.bot("first") as bot:
        text = await accepted(bot, "outbox-1", "C1")
        async with asyncio.timeout(WAIT):
            await world.sink.wait_held(1)
        await bot.kill()
    world.sink.release()
    assert world.sink.posts == []
    async with world.bot("second"):
        await world.expect_one_reply_each([text])


async def test_killed_after_delivery_before_it_is_marked(world: World) -> None:
    world.sink.hold_deliveries(Hold.AFTER_POST)
    async with world.bot("first") as bot:
        text = await accepted(bot, "posted-1", "C1")
        async with asyncio.timeout(WAIT):
            await world.sink.wait_held(1)
        await bot.kill()
    world.sink.release()
    assert len(world.sink.posts) == 1
    async with world.bot("second"):
        async with asyncio.timeout(WAIT):
            while world.sink.requests.count(world.sink.posts[0].nonce) < 2:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        await world.expect_one_reply_each([text])


async def test_two_processes_share_the_store_and_one_is_killed(world: World) -> None:
    world.llm.block()
    async with world.bot("a") as first, world.bot("b") as second:
        texts: list[str] = []
        for n in range(6):
            bot = first if n % 2 == 0 else second
            texts.append(await accepted(bot, f"shared-{n}", f"C{n}"))
        async with asyncio.timeout(WAIT):
            await world.llm.wait_for_in_flight(6)
        await first.kill()
        world.llm.unblock()
        await world.expect_one_reply_each(texts)
