"""The app installed by a user: its commands register for server and user installs in every
context, a user install answers in the user's DM from their DM memory, and where the bot is not
a member (someone else's server, a group DM) it answers only the user, only from their own
memory, never from any server's."""

from __future__ import annotations

from tests.fakes import discord_payloads as p
from tests.fakes.discord_rest import PostedMessage
from tests.integration.discord.conftest import Scene
from tests.integration.discord.interacting import ask, seed_birthday

#: Secrets of Alice's DM, and what #general of "Mnemo fans" knows.
DM_ONLY = ("lemon",)
SERVER_ONLY = ("12 March", "Birthday of the week")


async def user_command(
    scene: Scene,
    name: str,
    channel: p.Payload,
    *,
    guild_id: str | None,
    context: int,
    **options: str,
) -> PostedMessage:
    fake = scene.discord
    interaction = p.slash_command(
        fake.application_id,
        name,
        scene.world.alice,
        channel,
        command_id=fake.command_id(name),
        guild_id=guild_id,
        options=options,
    )
    return await ask(fake, p.user_installed(interaction, context=context))


def foreign_server() -> tuple[str, p.Payload]:
    guild_id = p.snowflake()
    return guild_id, p.foreign_channel(p.snowflake(), guild_id, "their-general")


async def test_every_command_installs_to_servers_and_users_in_every_context(
    scene: Scene,
) -> None:
    commands = {c["name"]: c for c in scene.discord.commands}

    for name in ("memory", "forget", "export", "why"):
        assert commands[name]["integration_types"] == [0, 1]
        assert commands[name]["contexts"] == [0, 1, 2]
    for name in ("Remember this message", "Forget this message"):
        assert commands[name]["type"] == p.COMMAND_MESSAGE
        assert commands[name]["integration_types"] == [0, 1]
        assert commands[name]["contexts"] == [0, 1, 2]


async def test_a_user_install_in_the_bots_dm_answers_from_their_dm_memory(scene: Scene) -> None:
    await seed_birthday(scene)

    answer = await user_command(
        scene, "why", scene.world.alice_dm, guild_id=None, context=p.CONTEXT_BOT_DM, words="cake"
    )

    assert "lemon birthday cake" in answer.content
    assert scene.discord.all_posted() == []


async def test_a_user_install_in_a_foreign_server_never_sees_server_memory(
    scene: Scene,
) -> None:
    await seed_birthday(scene)
    guild_id, channel = foreign_server()

    why = await user_command(
        scene, "why", channel, guild_id=guild_id, context=p.CONTEXT_GUILD, words="birthday"
    )
    memory = await user_command(scene, "memory", channel, guild_id=guild_id, context=0)

    for answer in (why, memory):
        for secret in SERVER_ONLY:
            assert secret not in answer.content
    assert "lemon" in memory.content
    assert "What I keep about you in our DMs" in memory.content
    assert scene.discord.all_posted() == []


async def test_a_user_install_in_the_bots_own_server_keeps_that_servers_memory_out(
    scene: Scene,
) -> None:
    """Asked in a server the bot is in, but authorised only by the user's install: the
    server's memory is not the user's to read there."""
    await seed_birthday(scene)
    world = scene.world

    answer = await user_command(
        scene, "why", world.general, guild_id=world.guild_id, context=0, words="birthday"
    )

    for secret in SERVER_ONLY:
        assert secret not in answer.content


async def test_a_user_install_in_a_group_dm_answers_only_the_user_from_their_memory(
    scene: Scene,
) -> None:
    await seed_birthday(scene)
    world = scene.world
    group = p.group_dm(p.snowflake(), world.alice, world.bob)

    answer = await user_command(
        scene, "memory", group, guild_id=None, context=p.CONTEXT_PRIVATE_CHANNEL
    )

    assert "lemon" in answer.content
    for secret in SERVER_ONLY:
        assert secret not in answer.content
    assert scene.discord.posted(group["id"]) == []
