"""Driving the bot with interactions on the fake Discord, and reading how it answered them."""

from __future__ import annotations

from engine import Audience, AudienceKind
from tests.fakes import discord_payloads as p
from tests.fakes.discord_rest import EPHEMERAL, FakeDiscord, PostedMessage
from tests.fakes.discord_world import eventually
from tests.fakes.memory_items import Remembered, remember_birthday
from tests.integration.discord.conftest import Scene

#: Interaction callback types (Discord's interaction response types).
CHANNEL_MESSAGE = 4
DEFERRED_CHANNEL_MESSAGE = 5
UPDATE_MESSAGE = 7
MODAL = 9


async def ask(fake: FakeDiscord, interaction: p.Payload) -> PostedMessage:
    """Dispatch a deferred interaction; its ephemeral follow-up (the bot's answer)."""
    before = len(fake.followups)
    await fake.gateway.dispatch("INTERACTION_CREATE", interaction)
    await eventually(lambda: len(fake.followups) > before, f"the answer to {interaction['id']}")
    answer = fake.followups[before]
    assert answer.ephemeral
    return answer


async def answered(fake: FakeDiscord, interaction: p.Payload) -> p.Payload:
    """Dispatch an interaction; the callback the bot answered it with."""
    await fake.gateway.dispatch("INTERACTION_CREATE", interaction)
    await eventually(lambda: callback(fake, interaction) is not None, "the interaction's answer")
    found = callback(fake, interaction)
    assert found is not None
    return found


def callback(fake: FakeDiscord, interaction: p.Payload) -> p.Payload | None:
    return next((c for i, c in fake.interaction_callbacks if i == interaction["id"]), None)


def is_ephemeral_message(answer: p.Payload) -> bool:
    return answer["type"] == CHANNEL_MESSAGE and bool(answer["data"]["flags"] & EPHEMERAL)


async def seed_birthday(scene: Scene) -> Remembered:
    """Alice's birthday as turns would have left it: said in #general, and with a secret in
    her DM (see ``remember_birthday``)."""
    world = scene.world
    alice = world.alice["id"]
    return await remember_birthday(
        scene.runtime.store,
        scene.runtime.default_agent.id,
        Audience(f"discord:{world.guild_id}", AudienceKind.PUBLIC, world.general["id"]),
        Audience(f"discord:dm:{alice}", AudienceKind.DM, world.alice_dm["id"], alice),
        user=alice,
        name="alice",
        public_ref=p.snowflake(),
        dm_ref=p.snowflake(),
    )
