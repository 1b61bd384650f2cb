"""The message commands end to end: "Remember this message" keeps a message for the audience
it was said in (a private channel's is never recalled in a public one), and "Forget this
message" forgets only the asker's own message, with what was derived from it."""

from __future__ import annotations

import json

from engine import Audience, AudienceKind, RecordFilter
from tests.fakes import discord_payloads as p
from tests.fakes.discord_rest import PostedMessage
from tests.fakes.openai_server import tool_call
from tests.integration.discord.conftest import Scene
from tests.integration.discord.interacting import answered, ask, callback, is_ephemeral_message

REMEMBER = "Remember this message"
FORGET = "Forget this message"


def on_message(
    scene: Scene,
    name: str,
    target: p.Payload,
    channel: p.Payload,
    *,
    by: p.Payload,
    guild_id: str | None = None,
) -> p.Payload:
    fake = scene.discord
    return p.message_command(
        fake.application_id,
        name,
        by,
        channel,
        target,
        command_id=fake.command_id(name),
        guild_id=guild_id,
    )


async def in_guild(
    scene: Scene, name: str, target: p.Payload, channel: p.Payload, *, by: p.Payload
) -> PostedMessage:
    """Run message command ``name`` on ``target`` in the main server; the bot's answer."""
    command = on_message(scene, name, target, channel, by=by, guild_id=scene.world.guild_id)
    return await ask(scene.discord, command)


def said(scene: Scene, channel: p.Payload, text: str, author: p.Payload | None = None) -> p.Payload:
    world = scene.world
    return p.message(channel["id"], author or world.alice, text, guild_id=world.guild_id)


async def searched_archival(scene: Scene, channel: p.Payload) -> str:
    """Run a turn in ``channel`` whose agent searches archival memory; what the search found."""
    scene.llm.push(
        tool_call("archival_memory_search", query="launch code"),
        tool_call("send_message", message="Searched."),
    )
    before = len(scene.discord.posted(channel["id"]))
    await scene.mention(channel, "what is the launch code?")
    await scene.replies(channel, before + 1)
    return json.dumps(scene.llm.chat_requests[-1]["messages"])


async def kept_in(scene: Scene, audience: Audience) -> list[str]:
    where = RecordFilter.for_audience(scene.runtime.default_agent.id, audience)
    return [passage.text for passage in await scene.runtime.store.passages.list(where, 10)]


async def test_a_message_kept_in_a_private_channel_is_never_recalled_in_a_public_one(
    scene: Scene,
) -> None:
    world = scene.world
    secret = said(scene, world.staff, "The launch code is 4711")

    answer = await in_guild(scene, REMEMBER, secret, world.staff, by=world.bob)

    assert answer.content == "Kept. I'll use it only in this private channel."
    assert "4711" not in await searched_archival(scene, world.general)
    assert "alice wrote: The launch code is 4711" in await searched_archival(scene, world.staff)


async def test_remembering_the_same_message_twice_keeps_it_once(scene: Scene) -> None:
    world = scene.world
    note = said(scene, world.general, "Standup moves to 9:30")

    await in_guild(scene, REMEMBER, note, world.general, by=world.bob)
    again = await in_guild(scene, REMEMBER, note, world.general, by=world.bob)

    assert again.content == "I already keep that message."
    public = Audience(f"discord:{world.guild_id}", AudienceKind.PUBLIC, world.general["id"])
    assert await kept_in(scene, public) == ["alice wrote: Standup moves to 9:30"]


async def test_forget_this_message_forgets_your_own_and_what_came_from_it(scene: Scene) -> None:
    world = scene.world
    scene.llm.push(tool_call("send_message", message="Noted."))
    mine = await scene.mention(world.general, "my phone is 555-0100")
    await scene.replies(world.general)
    workspace = f"discord:{world.guild_id}"
    await in_guild(scene, REMEMBER, mine, world.general, by=world.bob)

    refused = await answered(
        scene.discord,
        on_message(scene, FORGET, mine, world.general, by=world.bob, guild_id=world.guild_id),
    )
    assert is_ephemeral_message(refused)
    assert "only forget messages you wrote" in refused["data"]["content"]
    assert any("555-0100" in m for m in await scene.recalled(workspace, world.general["id"]))

    forgotten = await in_guild(scene, FORGET, mine, world.general, by=world.alice)

    assert forgotten.content.startswith("Forgotten")
    assert not any("555-0100" in m for m in await scene.recalled(workspace, world.general["id"]))
    public = Audience(workspace, AudienceKind.PUBLIC, world.general["id"])
    assert await kept_in(scene, public) == []


async def test_forgetting_your_message_in_a_public_thread_forgets_its_recalled_copy(
    scene: Scene,
) -> None:
    world = scene.world
    thread = world.public_thread
    scene.llm.push(tool_call("send_message", message="Noted."))
    mine = await scene.mention(thread, "my locker code is 1234")
    await scene.replies(thread)
    workspace, general = f"discord:{world.guild_id}", world.general["id"]
    assert any("1234" in m for m in await scene.recalled(workspace, general, thread["id"]))
    kept = await in_guild(scene, REMEMBER, mine, thread, by=world.bob)
    assert kept.content == "Kept. I'll use it with everyone in this server."

    forgotten = await in_guild(scene, FORGET, mine, thread, by=world.alice)

    assert forgotten.content.startswith("Forgotten")
    assert not any("1234" in m for m in await scene.recalled(workspace, general, thread["id"]))
    assert await kept_in(scene, Audience(workspace, AudienceKind.PUBLIC, general)) == []


async def test_a_message_in_a_channel_the_bot_cannot_see_is_not_kept(scene: Scene) -> None:
    world = scene.world
    hidden = p.text_channel(p.snowflake(), world.guild_id, "hidden", everyone_can_read=False)
    note = said(scene, hidden, "Salaries are in the sheet")

    answer = await in_guild(scene, REMEMBER, note, hidden, by=world.alice)

    assert "can't see this channel" in answer.content
    public = Audience(f"discord:{world.guild_id}", AudienceKind.PUBLIC, world.general["id"])
    assert await kept_in(scene, public) == []


async def test_a_message_kept_where_the_bot_is_not_a_member_goes_to_the_users_dm_memory(
    scene: Scene,
) -> None:
    world = scene.world
    guild_id = p.snowflake()
    channel = p.foreign_channel(p.snowflake(), guild_id, "their-general")
    note = p.message(channel["id"], world.bob, "The party is at Ann's", guild_id=guild_id)
    remember = on_message(scene, REMEMBER, note, channel, by=world.alice, guild_id=guild_id)

    answer = await ask(scene.discord, p.user_installed(remember, context=p.CONTEXT_GUILD))

    assert "your own memory" in answer.content
    alice = world.alice["id"]
    dm = Audience(f"discord:dm:{alice}", AudienceKind.DM, world.alice_dm["id"], alice)
    assert await kept_in(scene, dm) == ["bob wrote: The party is at Ann's"]
    foreign = Audience(f"discord:{guild_id}", AudienceKind.PUBLIC, channel["id"])
    assert await kept_in(scene, foreign) == []


async def test_a_message_without_text_is_not_kept(scene: Scene) -> None:
    world = scene.world
    empty = said(scene, world.general, "")

    answer = await in_guild(scene, REMEMBER, empty, world.general, by=world.bob)

    assert answer.content == "That message has no text I can keep."


async def test_forgetting_a_message_nothing_was_kept_from_says_so(scene: Scene) -> None:
    world = scene.world
    never_heard = said(scene, world.general, "just chatting")

    answer = await in_guild(scene, FORGET, never_heard, world.general, by=world.alice)

    assert answer.content == "I kept nothing from that message."


async def test_a_message_command_on_a_malformed_message_is_refused_and_the_next_answered(
    scene: Scene,
) -> None:
    world = scene.world
    broken = {**said(scene, world.general, "unreadable"), "channel_id": None}
    bad = on_message(scene, REMEMBER, broken, world.general, by=world.bob, guild_id=world.guild_id)

    await scene.discord.gateway.dispatch("INTERACTION_CREATE", bad)
    answer = await in_guild(
        scene, REMEMBER, said(scene, world.general, "readable"), world.general, by=world.bob
    )

    assert answer.content == "Kept. I'll use it with everyone in this server."
    [refused] = await scene.rejected()
    assert "channel_id" in str(refused["error"])
    assert callback(scene.discord, bad) is None
