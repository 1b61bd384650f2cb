"""Attachments shared with the Discord bot are learned as knowledge sources with the audience
of the channel they were shared in, where the agent's config turns learning on; the person
is told by a reply what was learned or why not."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from adapters.discord import DiscordAdapter
from adapters.serving import Serving
from adapters.shared_files import FileLearning
from bot.wiring import Runtime, build_runtime
from engine import Audience, AudienceKind, RecordFilter, SourceDocument, SourceLibrary
from tests.fakes import discord_payloads as p
from tests.fakes.discord_rest import FakeDiscord, PostedMessage
from tests.fakes.discord_world import DiscordWorld, bot_config, build_world, eventually
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.pdf_files import pdf_bytes
from tests.harness import settings_for

HANDBOOK = b"# Handbook\n\n## Leave\n\nParents get sixteen weeks of paid parental leave.\n"


@dataclass
class Scene:
    """Mnemo storing what its Discord bot hears (no turns), learning files in #general."""

    fake: FakeDiscord
    world: DiscordWorld
    runtime: Runtime

    @property
    def workspace(self) -> str:
        return f"discord:{self.world.guild_id}"

    async def share(
        self, channel: p.Payload, name: str, data: bytes, *, mention: bool = False
    ) -> p.Payload:
        """Alice's message attaching the file ``name``."""
        bot = self.fake.bot
        message = p.message(
            channel["id"],
            self.world.alice,
            f"{p.mention(bot)} here" if mention else "here",
            guild_id=channel.get("guild_id"),
            mentions=[bot] if mention else [],
        )
        message["attachments"] = [self.fake.attach(channel["id"], name, data)]
        await self.fake.gateway.dispatch("MESSAGE_CREATE", message)
        return message

    async def replies(self, channel: p.Payload, count: int = 1) -> list[PostedMessage]:
        await eventually(
            lambda: len(self.fake.posted(channel["id"])) >= count,
            f"{count} replies in {channel['id']}",
        )
        return self.fake.posted(channel["id"])

    async def documents(self) -> list[SourceDocument]:
        return await self.runtime.store.sources.documents(self.runtime.default_agent.id)

    async def found(self, audience: Audience, query: str) -> list[str]:
        where = RecordFilter.for_audience(self.runtime.default_agent.id, audience)
        return [hit.record.text for hit in await self.runtime.search.passages(where, query, 10)]


@pytest.fixture
async def scene(tmp_path: Path) -> AsyncIterator[Scene]:
    """Learning in #general only."""
    async with scene_learning(tmp_path, lambda world: {world.general["id"]}) as running:
        yield running


@asynccontextmanager
async def scene_learning(
    tmp_path: Path, places: Callable[[DiscordWorld], set[str]]
) -> AsyncIterator[Scene]:
    """The bot learning attachments in ``places`` of its world (``dm`` for DMs)."""
    fake = FakeDiscord()
    world = build_world(fake)
    async with FakeOpenAI() as llm, fake.running():
        runtime = await build_runtime(settings_for(tmp_path, llm))
        try:
            learning = FileLearning.of(places(world), 1 << 20)
            config = bot_config(
                fake, agent_id=runtime.default_agent.id, serving=Serving(file_learning=learning)
            )
            sources = SourceLibrary(runtime.store, runtime.embedder)
            adapter = DiscordAdapter(config, runtime.engine, runtime.user_data, sources=sources)
            runtime.engine.register_platform(adapter.platform_port)
            await adapter.start()
            try:
                yield Scene(fake, world, runtime)
            finally:
                await adapter.stop()
        finally:
            await runtime.aclose()


async def test_an_attachment_in_a_served_channel_is_learned_for_its_audience(
    scene: Scene,
) -> None:
    general = scene.world.general
    shared = await scene.share(general, "handbook.md", HANDBOOK)

    [reply] = await scene.replies(general)
    assert reply.content == (
        "Learned handbook.md: 1 section (I'll use it with everyone in this server)."
    )
    assert reply.reply_to == shared["id"]
    [document] = await scene.documents()
    assert (document.name, str(document.scope), document.workspace) == (
        "handbook.md",
        "workspace",
        scene.workspace,
    )
    public = Audience(scene.workspace, AudienceKind.PUBLIC, general["id"])
    assert any("sixteen weeks" in text for text in await scene.found(public, "parental leave"))
    elsewhere = Audience(
        f"discord:{scene.world.second_guild_id}",
        AudienceKind.PUBLIC,
        scene.world.second_general["id"],
    )
    assert await scene.found(elsewhere, "parental leave") == []


async def test_the_same_attachment_twice_is_learned_once(scene: Scene) -> None:
    general = scene.world.general
    pdf = pdf_bytes([["Travel policy."], ["Trains are booked for trips under four hours."]])
    await scene.share(general, "travel.pdf", pdf)
    await scene.replies(general, 1)
    await scene.share(general, "travel.pdf", pdf)

    replies = await scene.replies(general, 2)
    assert [r.content for r in replies] == [
        "Learned travel.pdf: 2 sections (I'll use it with everyone in this server).",
        "I already know travel.pdf (2 sections); nothing changed.",
    ]
    [document] = await scene.documents()
    assert document.chunks == 2
    chunks = await scene.runtime.store.sources.chunks_of(document.id)
    assert len(chunks) == 2


async def test_an_attachment_where_learning_is_off_is_refused_when_addressed(
    scene: Scene,
) -> None:
    staff = scene.world.staff
    await scene.share(staff, "quiet.md", HANDBOOK)
    await scene.share(staff, "salaries.md", HANDBOOK, mention=True)

    [reply] = await scene.replies(staff)
    assert reply.content.startswith("Learning shared files is off in this channel")
    await asyncio.sleep(0.5)  # let an answer to the message not addressed to the bot land
    assert len(scene.fake.posted(staff["id"])) == 1
    assert scene.fake.downloads == []
    assert await scene.documents() == []


async def test_an_attachment_in_a_dm_is_learned_for_that_person_only(tmp_path: Path) -> None:
    async with scene_learning(tmp_path, lambda world: {"dm"}) as scene:
        dm, alice = scene.world.alice_dm, scene.world.alice
        await scene.share(dm, "notes.md", HANDBOOK)

        [reply] = await scene.replies(dm)
        assert reply.content == "Learned notes.md: 1 section (I'll use it only in our DMs)."
        [document] = await scene.documents()
        assert str(document.scope) == f"dm:{alice['id']}"
        mine = Audience(document.workspace, AudienceKind.DM, dm["id"], alice["id"])
        assert any("sixteen weeks" in text for text in await scene.found(mine, "leave"))
        general = Audience(scene.workspace, AudienceKind.PUBLIC, scene.world.general["id"])
        assert await scene.found(general, "leave") == []


async def test_deleting_the_message_that_shared_an_attachment_forgets_the_document(
    scene: Scene,
) -> None:
    general = scene.world.general
    shared = await scene.share(general, "handbook.md", HANDBOOK)
    await scene.replies(general)
    public = Audience(scene.workspace, AudienceKind.PUBLIC, general["id"])
    assert any("sixteen weeks" in text for text in await scene.found(public, "parental leave"))

    await scene.fake.gateway.delete_message(shared)

    for _ in range(400):  # the deletion is handled as the gateway event arrives
        if not await scene.documents():
            break
        await asyncio.sleep(0.05)
    assert await scene.documents() == []
    assert await scene.found(public, "parental leave") == []
