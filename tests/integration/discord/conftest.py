"""The fake Discord each adapter test runs against, and a whole Mnemo runtime listening to it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from adapters.discord import DiscordAdapter
from bot.settings import Settings
from bot.wiring import Runtime, running
from engine.records import JSON, ConversationKey, Role
from tests.fakes import discord_payloads as p
from tests.fakes.discord_rest import FakeDiscord, PostedMessage
from tests.fakes.discord_world import (
    PATIENCE,
    POLL_INTERVAL,
    DiscordWorld,
    bot_config,
    build_world,
    eventually,
)
from tests.fakes.openai_server import FakeOpenAI
from tests.harness import settings_for


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    discord_ = FakeDiscord()
    async with discord_.running():
        yield discord_


@pytest.fixture
def world(fake: FakeDiscord) -> DiscordWorld:
    return build_world(fake)


@dataclass
class Scene:
    """A running Mnemo (real engine, fake model) with its Discord bot on the fake Discord."""

    discord: FakeDiscord
    world: DiscordWorld
    llm: FakeOpenAI
    runtime: Runtime
    adapter: DiscordAdapter

    async def say(self, payload: p.Payload) -> p.Payload:
        await self.discord.gateway.dispatch("MESSAGE_CREATE", payload)
        return payload

    async def dm(self, text: str) -> p.Payload:
        return await self.say(p.message(self.world.alice_dm["id"], self.world.alice, text))

    async def mention(self, channel: p.Payload, text: str) -> p.Payload:
        bot = self.discord.bot
        return await self.say(
            p.message(
                channel["id"],
                self.world.alice,
                f"{p.mention(bot)} {text}".rstrip(),
                guild_id=self.world.guild_id,
                mentions=[bot],
            )
        )

    async def replies(self, channel: p.Payload, count: int = 1) -> list[PostedMessage]:
        await eventually(
            lambda: len(self.discord.posted(channel["id"])) >= count,
            f"{count} replies in {channel['id']}",
        )
        return self.discord.posted(channel["id"])

    async def quiet(self) -> None:
        """Let anything still in flight land, so a test can assert nothing more happened."""
        await asyncio.sleep(0.5)

    async def recalled(self, workspace: str, channel: str, thread: str = "") -> list[str]:
        """What the agent remembers people saying in a conversation."""
        key = ConversationKey(self.runtime.default_agent.id, workspace, channel, thread)
        messages = await self.runtime.store.messages.recent(key, 0, 100)
        return [m.content for m in messages if m.role is Role.USER]

    async def rejected(self) -> list[JSON]:
        return await self.runtime.store.inbox.rejected(100)


async def until(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Wait until ``check()`` holds (the bot applies changes concurrently with the test)."""
    for _ in range(int(PATIENCE / POLL_INTERVAL)):
        if await check():
            return
        await asyncio.sleep(POLL_INTERVAL)
    raise AssertionError(f"timed out after {PATIENCE} s waiting for {what}")


@pytest.fixture
async def scene(tmp_path: Path) -> AsyncIterator[Scene]:
    # Scenes look at whole replies; streamed ones (edited as they grow) have their own tests.
    async with scene_running(tmp_path, stream_replies=False) as running_scene:
        yield running_scene


@asynccontextmanager
async def scene_running(tmp_path: Path, *, stream_replies: bool) -> AsyncIterator[Scene]:
    fake = FakeDiscord()
    world = build_world(fake)
    async with FakeOpenAI() as llm, fake.running():
        settings = settings_for(tmp_path, llm, MNEMO_STREAM_REPLIES=stream_replies)
        async with mnemo_on(fake, world, llm, settings) as running_scene:
            yield running_scene


@asynccontextmanager
async def mnemo_on(
    fake: FakeDiscord, world: DiscordWorld, llm: FakeOpenAI, settings: Settings
) -> AsyncIterator[Scene]:
    """A Mnemo process with its Discord bot on ``fake``: started, and stopped at the end (a
    second one over the same ``settings`` is the bot after a restart)."""
    async with running(settings) as runtime:
        config = bot_config(fake, agent_id=runtime.default_agent.id)
        adapter = DiscordAdapter(
            config, runtime.engine, runtime.user_data, approvals=runtime.approvals
        )
        runtime.engine.register_platform(adapter.platform_port)
        if adapter.approvals is not None:
            runtime.agents.approval_prompts.register(adapter.approvals)
        await adapter.start()
        try:
            yield Scene(fake, world, llm, runtime, adapter)
        finally:
            await adapter.stop()
