"""/why and /forget's menu end to end: interactions through discord.py, the real engine and
store, answers as ephemeral follow-ups with jump URLs."""

from __future__ import annotations

import pytest

from engine import Derived
from tests.fakes import discord_payloads as p
from tests.fakes.discord_rest import PostedMessage
from tests.fakes.discord_world import eventually
from tests.fakes.memory_items import Remembered
from tests.integration.discord.conftest import Scene
from tests.integration.discord.interacting import seed_birthday


@pytest.fixture
async def remembered(scene: Scene) -> Remembered:
    return await seed_birthday(scene)


async def command(
    scene: Scene, name: str, channel: p.Payload, guild: bool, **options: str
) -> PostedMessage:
    fake, before = scene.discord, len(scene.discord.followups)
    interaction = p.slash_command(
        fake.application_id,
        name,
        scene.world.alice,
        channel,
        command_id=fake.command_id(name),
        guild_id=scene.world.guild_id if guild else None,
        options=options,
    )
    await fake.gateway.dispatch("INTERACTION_CREATE", interaction)
    await eventually(lambda: len(fake.followups) > before, f"the answer to /{name}")
    answer = fake.followups[before]
    assert answer.ephemeral
    return answer


async def test_why_in_a_public_channel_gives_the_jump_url_and_never_the_dm(
    scene: Scene, remembered: Remembered
) -> None:
    world = scene.world
    answer = await command(scene, "why", world.general, True, words="birthday")
    jump = (
        f"https://discord.com/channels/{world.guild_id}/{world.general['id']}/"
        f"{remembered.said.platform_ref}"
    )
    assert f"[alice, 03 Mar 2026 in #general]({jump})" in answer.content
    for private in ("lemon", "secret", "direct messages", "@me"):
        assert private not in answer.content


async def test_why_in_the_users_dm_links_their_dm(scene: Scene, remembered: Remembered) -> None:
    world = scene.world
    answer = await command(scene, "why", world.alice_dm, False, words="lemon cake")
    jump = f"https://discord.com/channels/@me/{world.alice_dm['id']}/{remembered.told.platform_ref}"
    assert f"in direct messages]({jump})" in answer.content
    assert "lemon birthday cake" in answer.content


async def test_forget_menu_removes_the_chosen_item_only(
    scene: Scene, remembered: Remembered
) -> None:
    world, fake = scene.world, scene.discord
    question = await command(scene, "forget", world.alice_dm, False)
    [menu] = [
        c
        for row in question.payload["components"]
        for c in row["components"]
        if c.get("custom_id") == "mnemo:forget:item"
    ]
    passage = f"{Derived.PASSAGE.value}:{remembered.passage}"
    line = f"{Derived.BLOCK_LINE.value}:{remembered.human_line}"
    assert {o["value"] for o in menu["options"]} == {passage, line}

    chosen_on = {**question.payload, "channel_id": world.alice_dm["id"]}
    choice = p.menu_choice(
        fake.application_id, "mnemo:forget:item", [passage], world.alice, world.alice_dm, chosen_on
    )
    await fake.gateway.dispatch("INTERACTION_CREATE", choice)
    await eventually(
        lambda: any("Forgotten" in str(e.get("content")) for _, e in fake.edits), "forgotten"
    )
    store = scene.runtime.store
    assert await store.passages.get(remembered.passage) is None
    assert await store.lineage.sources_of(Derived.BLOCK_LINE, [remembered.human_line])
