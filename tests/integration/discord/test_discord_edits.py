"""Discord edits and deletions through the fake gateway: an edited message's new text replaces
the old one in recall, and a deleted message leaves it, so later turns see what people see."""

from __future__ import annotations

import json

from adapters.discord import guild_workspace
from tests.fakes import discord_payloads as p
from tests.fakes.openai_server import tool_call
from tests.integration.discord.conftest import Scene, until


async def answered(scene: Scene, channel: p.Payload, text: str, answer: str) -> p.Payload:
    """Mention the bot in ``channel`` and wait for its ``answer``."""
    scene.llm.push(tool_call("send_message", message=answer))
    before = len(scene.discord.posted(channel["id"]))
    said = await scene.mention(channel, text)
    await scene.replies(channel, before + 1)
    return said


async def recalled(scene: Scene, channel: str, thread: str = "") -> list[str]:
    """What the agent remembers people saying in a conversation of the guild."""
    return await scene.recalled(guild_workspace(int(scene.world.guild_id)), channel, thread)


async def test_edited_message_replaces_its_old_text_in_recall(scene: Scene) -> None:
    general = scene.world.general["id"]
    said = await answered(scene, scene.world.general, "the launch is on Monday", "Noted.")

    await scene.discord.gateway.edit_message(
        said, f"{p.mention(scene.discord.bot)} the launch is on Friday"
    )

    async def edited() -> bool:
        return await recalled(scene, general) == ["the launch is on Friday"]

    await until(edited, "the edit in recall")
    await answered(scene, scene.world.general, "when is the launch?", "Friday.")
    prompt = json.dumps(scene.llm.chat_requests[-1]["messages"])
    assert "the launch is on Friday" in prompt
    assert "Monday" not in prompt


async def test_deleted_message_disappears_from_recall(scene: Scene) -> None:
    general = scene.world.general["id"]
    said = await answered(scene, scene.world.general, "my locker code is 4512", "Got it.")
    await answered(scene, scene.world.general, "and the lunch is at noon", "Okay.")

    await scene.discord.gateway.delete_message(said)

    async def deleted() -> bool:
        return await recalled(scene, general) == ["and the lunch is at noon"]

    await until(deleted, "the deletion in recall")
    await answered(scene, scene.world.general, "what do you know?", "Lunch at noon.")
    assert "4512" not in json.dumps(scene.llm.chat_requests[-1]["messages"])


async def test_edit_in_a_public_thread_reaches_the_threads_conversation(scene: Scene) -> None:
    thread = scene.world.public_thread
    said = await answered(scene, thread, "draft one", "Seen.")

    await scene.discord.gateway.edit_message(said, f"{p.mention(scene.discord.bot)} draft two")

    async def edited() -> bool:
        return await recalled(scene, scene.world.general["id"], thread["id"]) == ["draft two"]

    await until(edited, "the thread edit in recall")


async def test_unfurl_update_without_edit_time_changes_nothing(scene: Scene) -> None:
    general = scene.world.general["id"]
    said = await answered(scene, scene.world.general, "look at this link", "Nice.")

    # Discord sends MESSAGE_UPDATE when a link's embed unfolds; edited_timestamp stays null.
    await scene.discord.gateway.dispatch("MESSAGE_UPDATE", {**said, "content": "unfurled"})
    await answered(scene, scene.world.general, "thanks", "Welcome.")

    assert await recalled(scene, general) == ["look at this link", "thanks"]
