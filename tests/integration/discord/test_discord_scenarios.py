"""Discord end to end: gateway events in through real discord.py, the real engine and agent
runtime (against the fake OpenAI server), replies out through discord.py's REST client to the
fake Discord."""

from __future__ import annotations

import asyncio
import json

from adapters.chunking import split_message
from adapters.discord import dm_workspace
from adapters.discord.delivery import MESSAGE_LIMIT
from tests.fakes import discord_payloads as p
from tests.fakes.discord_world import eventually
from tests.fakes.openai_server import tool_call
from tests.integration.discord.conftest import Scene


async def test_dm_is_answered_in_the_dm_with_typing_shown(scene: Scene) -> None:
    scene.llm.push(tool_call("send_message", message="Hi Alice, nice to meet you."))

    question = await scene.dm("hello there")

    [reply] = await scene.replies(scene.world.alice_dm)
    assert reply.content == "Hi Alice, nice to meet you."
    assert reply.reply_to == question["id"]
    assert scene.discord.typing[scene.world.alice_dm["id"]] >= 1
    assert "hello there" in json.dumps(scene.llm.chat_requests[-1]["messages"])


async def test_mention_in_a_channel_is_answered_there(scene: Scene) -> None:
    scene.llm.push(tool_call("send_message", message="On it."))

    question = await scene.mention(scene.world.general, "can you help?")

    [reply] = await scene.replies(scene.world.general)
    assert reply.content == "On it."
    assert reply.reply_to == question["id"]
    assert "can you help?" in json.dumps(scene.llm.chat_requests[-1]["messages"])


async def test_thread_message_is_answered_in_the_thread(scene: Scene) -> None:
    scene.llm.push(tool_call("send_message", message="Replying in the thread."))

    await scene.mention(scene.world.public_thread, "thread question")

    [reply] = await scene.replies(scene.world.public_thread)
    assert reply.content == "Replying in the thread."
    await scene.quiet()
    assert scene.discord.posted(scene.world.general["id"]) == []


async def test_five_thousand_character_reply_arrives_in_correct_chunks(scene: Scene) -> None:
    code = "```python\n" + "\n".join(f"print({n})" for n in range(200)) + "\n```"
    sentence = "Mnemo remembers what you tell it, where you told it. "
    text = (sentence * 30)[:1500] + "\n\n" + code + "\n\n" + sentence * 40
    text = text[:5000]
    scene.llm.push(tool_call("send_message", message=text))

    await scene.mention(scene.world.general, "tell me everything")

    expected = split_message(text, MESSAGE_LIMIT)
    posts = await scene.replies(scene.world.general, len(expected))
    await scene.quiet()
    posts = scene.discord.posted(scene.world.general["id"])
    assert [m.content for m in posts] == expected
    assert len(posts) == 3
    assert all(len(m.content) <= MESSAGE_LIMIT for m in posts)
    printed = [ln for m in posts for ln in m.content.split("\n") if ln.startswith("print(")]
    assert printed == [f"print({n})" for n in range(200)]


async def test_fact_told_in_a_dm_never_appears_in_a_guild_channel(scene: Scene) -> None:
    secret = "interviewing at Initech next week"
    scene.llm.push(
        tool_call("core_memory_append", label="human", content=f"Alice is {secret}."),
        tool_call("archival_memory_insert", content=f"Alice is {secret}."),
        tool_call("send_message", message="Good luck, I'll keep it between us."),
    )
    await scene.dm(f"Keep this quiet: I'm {secret}.")
    await scene.replies(scene.world.alice_dm)
    dm_requests = len(scene.llm.chat_requests)
    assert "Initech" in json.dumps(scene.llm.chat_requests[-1]["messages"])

    scene.llm.push(
        tool_call("conversation_search", query="Alice next week"),
        tool_call("archival_memory_search", query="Alice next week"),
    )
    await scene.mention(scene.world.general, "what is Alice up to next week?")
    await scene.replies(scene.world.general)

    channel_requests = scene.llm.chat_requests[dm_requests:]
    assert len(channel_requests) >= 3
    for request in channel_requests:
        assert "Initech" not in json.dumps(request["messages"])
    assert all("Initech" not in m.content for m in scene.discord.all_posted())


async def test_forget_really_deletes(scene: Scene) -> None:
    world = scene.world
    scene.llm.push(
        tool_call("core_memory_append", label="human", content="Alice's cat is called Miso."),
        tool_call("archival_memory_insert", content="Alice's cat Miso is allergic to fish."),
        tool_call("send_message", message="Noted!"),
    )
    await scene.dm("My cat Miso is allergic to fish.")
    await scene.replies(world.alice_dm)
    workspace = dm_workspace(int(world.alice["id"]))
    before = await scene.runtime.user_data.about_user(workspace, world.alice["id"])
    assert "Miso" in json.dumps([before.blocks, before.passages], default=str)

    command = p.slash_command(
        scene.discord.application_id,
        "forget",
        world.alice,
        world.alice_dm,
        command_id=scene.discord.command_id("forget"),
    )
    await scene.discord.gateway.dispatch("INTERACTION_CREATE", command)
    await eventually(lambda: bool(scene.discord.followups), "the confirmation question")
    question = scene.discord.followups[-1]
    press = p.button_press(
        scene.discord.application_id,
        "mnemo:forget:confirm",
        world.alice,
        world.alice_dm,
        {**question.payload, "channel_id": world.alice_dm["id"]},
    )
    await scene.discord.gateway.dispatch("INTERACTION_CREATE", press)
    await eventually(
        lambda: any("deleted" in str(edit.get("content")) for _, edit in scene.discord.edits),
        "the deletion to be confirmed",
    )

    report = await scene.runtime.user_data.about_user(workspace, world.alice["id"])
    assert report.blocks == ()
    assert report.passages == ()
    assert report.messages == 0
    exported = await scene.runtime.user_data.export_user(workspace, world.alice["id"])
    assert b"Miso" not in exported


async def test_gateway_disconnect_mid_turn_gives_exactly_one_reply(scene: Scene) -> None:
    scene.llm.block()
    scene.llm.push(tool_call("send_message", message="Still here, answering once."))
    question = await scene.mention(scene.world.general, "are you there?")
    async with asyncio.timeout(15):
        await scene.llm.wait_for_in_flight(1)

    await scene.discord.gateway.disconnect()
    # Discord delivers at least once: the message comes again after the reconnect.
    await scene.discord.gateway.wait_connected(2)
    await scene.say(question)
    scene.llm.unblock()

    [reply] = await scene.replies(scene.world.general)
    await scene.quiet()
    assert scene.discord.posted(scene.world.general["id"]) == [reply]
    assert reply.reply_to == question["id"]
    assert len(scene.llm.chat_requests) == 1
