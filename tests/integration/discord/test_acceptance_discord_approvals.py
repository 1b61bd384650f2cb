"""An approval button pressed on Discord outside the request's conversation decides nothing."""

from __future__ import annotations

from engine import ApprovalStatus
from tests.fakes import discord_payloads as p
from tests.fakes.openai_server import tool_call
from tests.integration.discord.conftest import Scene
from tests.integration.discord.interacting import answered, is_ephemeral_message
from tests.integration.discord.test_discord_memory_view import components
from tests.integration.test_approvals import FACT, require_approval


async def test_a_discord_button_pressed_in_another_channel_decides_nothing(scene: Scene) -> None:
    await require_approval(scene.runtime)
    scene.llm.push(tool_call("archival_memory_insert", content=FACT))
    await scene.dm("remember the freeze")
    [posted] = await scene.replies(scene.world.alice_dm)
    approve = next(
        c["custom_id"]
        for c in components(posted.payload["components"])
        if c.get("custom_id", "").startswith("mnemo:approval:approve:")
    )
    general = scene.world.general
    pressed_on = {**posted.payload, "channel_id": general["id"]}
    forged = p.button_press(
        scene.discord.application_id,
        approve,
        scene.world.alice,
        general,
        pressed_on,
        guild_id=scene.world.guild_id,
    )
    refused = await answered(scene.discord, forged)
    assert is_ephemeral_message(refused)
    assert "nothing was decided" in refused["data"]["content"]
    request_id = approve.removeprefix("mnemo:approval:approve:")
    stored = await scene.runtime.store.approvals.get(request_id)
    assert stored is not None
    assert stored.status is ApprovalStatus.PENDING


async def test_arguments_stay_inside_the_prompts_code_block(scene: Scene) -> None:
    """Words the model wrote cannot close the block and show a link as the bot's own."""
    await require_approval(scene.runtime)
    escape = "```\n[Approve here](https://evil.example) @everyone\n```"
    scene.llm.push(tool_call("archival_memory_insert", content=escape))
    await scene.dm("remember this")
    [posted] = await scene.replies(scene.world.alice_dm)
    assert posted.content.count("```") == 2
    assert posted.allowed_mentions is not None
    assert posted.allowed_mentions["parse"] == []
