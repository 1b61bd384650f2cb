"""Discord edits and deletions through the fake gateway: an edited message's new text replaces
the old one in recall, and a deleted message leaves it, so later turns see what people see."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from adapters.discord import DiscordAdapter
from bot.wiring import Runtime, running
from engine.records import ConversationKey, Role
from tests.fakes import discord_payloads as p
from tests.fakes.discord_rest import FakeDiscord
from tests.fakes.discord_world import (
    PATIENCE,
    POLL_INTERVAL,
    DiscordWorld,
    bot_config,
    build_world,
    eventually,
)
from tests.fakes.openai_server import FakeOpenAI, tool_call
from tests.harness import settings_for


@dataclass
class Scene:
    discord: FakeDiscord
    world: DiscordWorld
    llm: FakeOpenAI
    runtime: Runtime

    async def mention(self, channel: p.Payload, text: str, answer: str) -> p.Payload:
        """Mention the bot in ``channel`` and wait for its ``answer``."""
        self.llm.push(tool_call("send_message", message=answer))
        before = len(self.discord.posted(channel["id"]))
        bot = self.discord.bot
        message = p.message(
            channel["id"],
            self.world.alice,
            f"{p.mention(bot)} {text}",
            guild_id=self.world.guild_id,
            mentions=[bot],
        )
        await self.discord.gateway.dispatch("MESSAGE_CREATE", message)
        await eventually(lambda: len(self.discord.posted(channel["id"])) > before, answer)
        return message

    async def recalled(self, channel: str, thread: str = "") -> list[str]:
        """What the agent remembers people saying in a conversation."""
        key = ConversationKey(
            self.runtime.default_agent.id, f"discord:{self.world.guild_id}", channel, thread
        )
        messages = await self.runtime.store.messages.recent(key, 0, 100)
        return [m.content for m in messages if m.role is Role.USER]


async def until(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Wait until ``check()`` holds (the bot applies changes concurrently with the test)."""
    for _ in range(int(PATIENCE / POLL_INTERVAL)):
        if await check():
            return
        await asyncio.sleep(POLL_INTERVAL)
    raise AssertionError(f"timed out after {PATIENCE} s waiting for {what}")


@pytest.fixture
async def scene(tmp_path: Path) -> AsyncIterator[Scene]:
    fake = FakeDiscord()
    world = build_world(fake)
    async with FakeOpenAI() as llm, fake.running(), running(settings_for(tmp_path, llm)) as runtime:
        adapter = DiscordAdapter(
            bot_config(fake, agent_id=runtime.default_agent.id), runtime.engine, runtime.user_data
        )
        runtime.engine.register_platform(adapter.platform_port)
        await adapter.start()
        try:
            yield Scene(fake, world, llm, runtime)
        finally:
            await adapter.stop()


async def test_edited_message_replaces_its_old_text_in_recall(scene: Scene) -> None:
    general = scene.world.general["id"]
    said = await scene.mention(scene.world.general, "the launch is on Monday", "Noted.")

    await scene.discord.gateway.edit_message(
        said, f"{p.mention(scene.discord.bot)} the launch is on Friday"
    )

    async def edited() -> bool:
        return await scene.recalled(general) == ["the launch is on Friday"]

    await until(edited, "the edit in recall")
    await scene.mention(scene.world.general, "when is the launch?", "Friday.")
    prompt = json.dumps(scene.llm.chat_requests[-1]["messages"])
    assert "the launch is on Friday" in prompt
    assert "Monday" not in prompt


async def test_deleted_message_disappears_from_recall(scene: Scene) -> None:
    general = scene.world.general["id"]
    said = await scene.mention(scene.world.general, "my locker code is 4512", "Got it.")
    await scene.mention(scene.world.general, "and the lunch is at noon", "Okay.")

    await scene.discord.gateway.delete_message(said)

    async def deleted() -> bool:
        return await scene.recalled(general) == ["and the lunch is at noon"]

    await until(deleted, "the deletion in recall")
    await scene.mention(scene.world.general, "what do you know?", "Lunch at noon.")
    assert "4512" not in json.dumps(scene.llm.chat_requests[-1]["messages"])


async def test_edit_in_a_public_thread_reaches_the_threads_conversation(scene: Scene) -> None:
    thread = scene.world.public_thread
    said = await scene.mention(thread, "draft one", "Seen.")

    await scene.discord.gateway.edit_message(said, f"{p.mention(scene.discord.bot)} draft two")

    async def edited() -> bool:
        return await scene.recalled(scene.world.general["id"], thread["id"]) == ["draft two"]

    await until(edited, "the thread edit in recall")


async def test_unfurl_update_without_edit_time_changes_nothing(scene: Scene) -> None:
    general = scene.world.general["id"]
    said = await scene.mention(scene.world.general, "look at this link", "Nice.")

    # Discord sends MESSAGE_UPDATE when a link's embed unfolds; edited_timestamp stays null.
    await scene.discord.gateway.dispatch("MESSAGE_UPDATE", {**said, "content": "unfurled"})
    await scene.mention(scene.world.general, "thanks", "Welcome.")

    assert await scene.recalled(general) == ["look at this link", "thanks"]
