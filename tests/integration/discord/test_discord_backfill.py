"""Learning a Discord channel's history: ``/learn-channel`` and the bot joining a server read
the channel's past messages from the fake REST API into recall, oldest first, with their
authors, times and audience, and never answer them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.discord import DiscordAdapter
from adapters.history import HistoryBounds
from adapters.policy import ChannelPolicy
from adapters.serving import Serving
from bot.wiring import Runtime, running
from engine import (
    Audience,
    AudienceKind,
    BackfillLedger,
    BackfillProgress,
    ConversationKey,
    Message,
    RecordFilter,
)
from tests.fakes import discord_payloads as p
from tests.fakes.discord_rest import FakeDiscord
from tests.fakes.discord_world import DiscordWorld, bot_config, build_world, eventually
from tests.fakes.openai_server import FakeOpenAI
from tests.harness import settings_for
from tests.integration.discord.conftest import until

MANAGE_GUILD = 1 << 5
NOW = datetime.now(UTC)


def past(channel: p.Payload, author: p.Payload, text: str, days_ago: float) -> p.Payload:
    """A message sent ``days_ago`` days ago, as the REST API lists it."""
    when = NOW - timedelta(days=days_ago)
    message = p.message(
        channel["id"], author, text, guild_id=channel["guild_id"], message_id=p.snowflake_at(when)
    )
    return message | {"timestamp": when.isoformat()}


class Scene:
    """Mnemo with its Discord bot on the fake Discord, whose channels have a past."""

    def __init__(
        self, fake: FakeDiscord, world: DiscordWorld, llm: FakeOpenAI, runtime: Runtime
    ) -> None:
        self.fake, self.world, self.llm, self.runtime = fake, world, llm, runtime
        general, staff = world.general, world.staff
        self.ship = past(general, world.alice, "We ship on Tuesday", 3)
        self.notes = past(general, world.bob, "I'll write the release notes", 2)
        self.beep = past(general, world.other_bot, "beep", 1.5)
        self.own = past(general, fake.bot, "I said this once", 1)
        self.ancient = past(general, world.alice, "A message from long ago", 200)
        self.salaries = past(staff, world.alice, "Salaries are reviewed in May", 2)
        fake.archive[general["id"]] = [self.ancient, self.ship, self.notes, self.beep, self.own]
        fake.archive[staff["id"]] = [self.salaries]
        self.ledger = BackfillLedger(runtime.store.kv)

    @property
    def agent(self) -> str:
        return self.runtime.default_agent.id

    @property
    def workspace(self) -> str:
        return f"discord:{self.world.guild_id}"

    async def learn(
        self, channel: p.Payload, user: p.Payload, *, admin: bool = True, **extra: Any
    ) -> str:
        """Run ``/learn-channel`` in ``channel``; the answer only ``user`` sees."""
        fake = self.fake
        before = len(fake.followups)
        interaction = p.slash_command(
            fake.application_id,
            "learn-channel",
            user,
            channel,
            command_id=fake.command_id("learn-channel"),
            guild_id=self.world.guild_id,
        )
        if admin:
            interaction["member"]["permissions"] = str(p.EVERYONE_PERMISSIONS | MANAGE_GUILD)
        await fake.gateway.dispatch("INTERACTION_CREATE", interaction | extra)
        await eventually(lambda: len(fake.followups) > before, "the answer to /learn-channel")
        answer = fake.followups[before]
        assert answer.ephemeral
        return answer.content

    async def learned(self, channel: p.Payload) -> BackfillProgress:
        """The channel's read, once done and every message it kept is in recall."""
        found: list[BackfillProgress] = []

        async def finished() -> bool:
            progress = await self.ledger.get("discord", self.agent, self.workspace, channel["id"])
            found[:] = [progress] if progress is not None and progress.state != "reading" else []
            return bool(found) and await self.runtime.store.inbox.depth() == 0

        await until(finished, f"the history of {channel['id']} learned")
        return found[0]

    async def recalled(self, channel: p.Payload) -> list[Message]:
        key = ConversationKey(self.agent, self.workspace, channel["id"], "")
        return await self.runtime.store.messages.recent(key, 0, 100)


@asynccontextmanager
async def discord_bot(tmp_path: Path, **config: Any) -> AsyncIterator[tuple[Scene, DiscordAdapter]]:
    """The scene and its bot, not yet started."""
    fake = FakeDiscord()
    world = build_world(fake)
    async with FakeOpenAI() as llm, fake.running(), running(settings_for(tmp_path, llm)) as runtime:
        scene = Scene(fake, world, llm, runtime)
        # Every past message is kept in a listen channel (a mention channel keeps mentions).
        hearing = {"message_content": True, "default_policy": ChannelPolicy.LISTEN}
        settings = bot_config(fake, agent_id=runtime.default_agent.id, **(hearing | config))
        adapter = DiscordAdapter(settings, runtime.engine, runtime.user_data, scene.ledger)
        runtime.engine.register_platform(adapter.platform_port)
        try:
            yield scene, adapter
        finally:
            await adapter.stop()


@pytest.fixture
async def scene(tmp_path: Path) -> AsyncIterator[Scene]:
    async with discord_bot(tmp_path) as (scene, adapter):
        await adapter.start()
        yield scene


async def test_learn_channel_remembers_past_messages_oldest_first_without_answering(
    scene: Scene,
) -> None:
    general, world = scene.world.general, scene.world

    answer = await scene.learn(general, world.alice)
    progress = await scene.learned(general)

    assert "Learning #general's history" in answer
    recalled = await scene.recalled(general)
    assert [(m.author, m.author_name, m.content) for m in recalled] == [
        (world.alice["id"], "alice", "We ship on Tuesday"),
        (world.bob["id"], "bob", "I'll write the release notes"),
    ]
    assert [m.platform_ref for m in recalled] == [scene.ship["id"], scene.notes["id"]]
    assert recalled[0].created_at < recalled[1].created_at < NOW
    assert abs(recalled[0].created_at - (NOW - timedelta(days=3))) < timedelta(seconds=1)
    # Past the 90 days: never read; another bot's and our own messages: read, not kept.
    assert (progress.done, progress.read, progress.stored, progress.skipped) == (True, 4, 2, 2)
    assert scene.fake.posted(general["id"]) == []
    assert scene.llm.chat_requests == []


async def test_private_channel_history_is_never_recalled_in_a_public_channel(
    scene: Scene,
) -> None:
    await scene.learn(scene.world.staff, scene.world.alice)
    await scene.learned(scene.world.staff)

    messages = scene.runtime.store.messages
    public = Audience(scene.workspace, AudienceKind.PUBLIC, scene.world.general["id"])
    private = Audience(scene.workspace, AudienceKind.PRIVATE, scene.world.staff["id"])
    assert (
        await messages.search_text(RecordFilter.for_audience(scene.agent, public), "Salaries", 10)
        == []
    )
    [found] = await messages.search_text(
        RecordFilter.for_audience(scene.agent, private), "Salaries", 10
    )
    assert found.record.author_name == "alice"


async def test_only_server_admins_may_ask(scene: Scene) -> None:
    general = scene.world.general

    answer = await scene.learn(general, scene.world.bob, admin=False)

    assert "Only server admins" in answer
    assert scene.fake.requests[f"GET /channels/{general['id']}/messages"] == 0


async def test_a_channel_the_bot_cannot_read_gets_a_clear_answer(scene: Scene) -> None:
    general = scene.world.general
    scene.fake.unreadable.add(general["id"])

    answer = await scene.learn(general, scene.world.alice)

    assert "I can't read #general's history" in answer
    assert "Read Message History" in answer
    assert await scene.ledger.all() == []


async def test_a_rate_limited_page_is_waited_out(scene: Scene) -> None:
    route = f"GET /channels/{scene.world.general['id']}/messages"
    scene.fake.rate_limit(route, times=1, retry_after=0.2)

    await scene.learn(scene.world.general, scene.world.alice)
    progress = await scene.learned(scene.world.general)

    assert scene.fake.rate_limited[route] == 1
    assert progress.stored == 2


async def test_a_restart_continues_after_the_last_message_handed_over(tmp_path: Path) -> None:
    async with discord_bot(tmp_path) as (scene, adapter):
        general = scene.world.general
        began = NOW - timedelta(minutes=5)
        stopped = BackfillProgress(
            "discord",
            scene.agent,
            scene.workspace,
            general["id"],
            began,
            began,
            "#general",
            cursor=scene.ship["id"],
            read=1,
        )
        await scene.ledger.save(stopped)

        await adapter.start()
        progress = await scene.learned(general)

        assert [m.content for m in await scene.recalled(general)] == [
            "I'll write the release notes"
        ]
        assert (progress.done, progress.read) == (True, 4)


async def test_messages_heard_live_are_skipped_and_the_past_takes_its_place_in_time(
    tmp_path: Path,
) -> None:
    listen = {"message_content": True, "default_policy": ChannelPolicy.LISTEN}
    async with discord_bot(tmp_path, **listen) as (scene, adapter):
        await adapter.start()
        general = scene.world.general
        await scene.fake.gateway.dispatch("MESSAGE_CREATE", scene.notes)
        await until(lambda: _has(scene, general, 1), "the live message stored")

        await scene.learn(general, scene.world.alice)
        progress = await scene.learned(general)

        # Read after it, the older message is still recalled before it.
        assert [m.content for m in await scene.recalled(general)] == [
            "We ship on Tuesday",
            "I'll write the release notes",
        ]
        assert (progress.stored, progress.skipped) == (1, 3)


async def _has(scene: Scene, channel: p.Payload, count: int) -> bool:
    return len(await scene.recalled(channel)) >= count


async def test_the_bounds_keep_only_the_newest_messages(tmp_path: Path) -> None:
    async with discord_bot(
        tmp_path, serving=Serving(history=HistoryBounds(days=0, messages=3))
    ) as (scene, adapter):
        await adapter.start()
        general = scene.world.general

        await scene.learn(general, scene.world.alice)
        progress = await scene.learned(general)

        assert [m.content for m in await scene.recalled(general)] == [
            "I'll write the release notes"
        ]
        assert (progress.read, progress.stored) == (3, 1)


async def test_joining_a_server_reads_the_channels_the_bot_may_read(scene: Scene) -> None:
    fake = scene.fake
    guild_id = p.snowflake()
    lobby = p.text_channel(p.snowflake(), guild_id, "lobby")
    fake.archive[lobby["id"]] = [past(lobby, scene.world.bob, "Welcome to the new server", 1)]
    guild = p.guild(
        guild_id, "New", scene.world.bob["id"], channels=[lobby], members=[p.member(fake.bot)]
    )
    del guild["unavailable"]  # Discord names a server joined just now, not one back from an outage
    fake.add_guild(guild)

    await fake.gateway.dispatch("GUILD_CREATE", guild)

    ledger = scene.ledger

    async def learned() -> bool:
        progress = await ledger.get("discord", scene.agent, f"discord:{guild_id}", lobby["id"])
        return (
            progress is not None and progress.done and await scene.runtime.store.inbox.depth() == 0
        )

    await until(learned, "the new server's channel learned")
    key = ConversationKey(scene.agent, f"discord:{guild_id}", lobby["id"], "")
    [welcome] = await scene.runtime.store.messages.recent(key, 0, 10)
    assert welcome.content == "Welcome to the new server"
