"""Approve / Deny buttons on Discord, end to end on the fake Discord: the paused turn posts
the prompt in its conversation, someone else's press is refused ephemerally, the approver's
press runs the tool once and edits the prompt, and the agent answers what came of it."""

from __future__ import annotations

from pathlib import Path

from engine import ApprovalStatus, Audience, AudienceKind, RecordFilter
from tests.fakes import discord_payloads as p
from tests.fakes.discord_rest import FakeDiscord, PostedMessage
from tests.fakes.discord_world import build_world
from tests.fakes.openai_server import FakeOpenAI, tool_call
from tests.harness import dm, settings_for
from tests.integration.discord.conftest import Scene, mnemo_on
from tests.integration.discord.interacting import UPDATE_MESSAGE, answered, is_ephemeral_message
from tests.integration.discord.test_discord_memory_view import components
from tests.integration.test_approvals import FACT, require_approval, waiting_request


def press(scene: Scene, custom_id: str, on: PostedMessage, by: p.Payload) -> p.Payload:
    world = scene.world
    pressed_on = {**on.payload, "channel_id": world.alice_dm["id"]}
    return p.button_press(scene.discord.application_id, custom_id, by, world.alice_dm, pressed_on)


async def kept_passages(scene: Scene) -> list[str]:
    alice = scene.world.alice["id"]
    where = RecordFilter.for_audience(
        scene.runtime.default_agent.id, dm(alice, f"discord:dm:{alice}")
    )
    return [passage.text for passage in await scene.runtime.store.passages.list(where, 50)]


async def test_the_approver_approves_on_discord_and_the_tool_runs_once(scene: Scene) -> None:
    await require_approval(scene.runtime)
    scene.llm.push(tool_call("archival_memory_insert", content=FACT))
    await scene.dm("remember the freeze")
    [prompt] = await scene.replies(scene.world.alice_dm)
    alice = scene.world.alice["id"]
    assert f"<@{alice}> may approve or deny it" in prompt.content
    assert FACT in prompt.content
    ids = sorted(
        c["custom_id"] for c in components(prompt.payload["components"]) if "custom_id" in c
    )
    approve, deny = ids
    assert approve.startswith("mnemo:approval:approve:")
    assert deny == approve.replace(":approve:", ":deny:")

    refused = await answered(scene.discord, press(scene, approve, prompt, scene.world.bob))
    assert is_ephemeral_message(refused)
    assert refused["data"]["content"].startswith(f"Only {alice} may approve or deny")
    assert await kept_passages(scene) == []

    scene.llm.push(tool_call("send_message", message="Kept: freeze on Fridays."))
    decided = await answered(scene.discord, press(scene, approve, prompt, scene.world.alice))
    assert decided["type"] == UPDATE_MESSAGE
    assert decided["data"]["content"] == f"Approved by {alice}: archival_memory_insert ran."
    assert decided["data"]["components"] == []
    replies = await scene.replies(scene.world.alice_dm, 2)
    assert replies[-1].content == "Kept: freeze on Fridays."
    assert await kept_passages(scene) == [FACT]

    again = await answered(scene.discord, press(scene, deny, prompt, scene.world.alice))
    assert is_ephemeral_message(again)
    assert again["data"]["content"].startswith(f"Already decided. Approved by {alice}")
    assert await kept_passages(scene) == [FACT]


async def test_buttons_posted_before_a_restart_still_decide(tmp_path: Path) -> None:
    fake = FakeDiscord()
    world = build_world(fake)
    async with FakeOpenAI() as llm, fake.running():
        settings = settings_for(tmp_path, llm, MNEMO_STREAM_REPLIES=False)
        async with mnemo_on(fake, world, llm, settings) as scene:
            await require_approval(scene.runtime)
            llm.push(tool_call("archival_memory_insert", content=FACT))
            await scene.dm("remember the freeze")
            [prompt] = await scene.replies(world.alice_dm)
        async with mnemo_on(fake, world, llm, settings) as scene:
            approve = next(
                c["custom_id"]
                for c in components(prompt.payload["components"])
                if c.get("custom_id", "").startswith("mnemo:approval:approve:")
            )
            llm.push(tool_call("send_message", message="Kept, after the restart."))
            decided = await answered(fake, press(scene, approve, prompt, world.alice))
            assert decided["type"] == UPDATE_MESSAGE
            replies = await scene.replies(world.alice_dm, 2)
            assert replies[-1].content == "Kept, after the restart."
            assert await kept_passages(scene) == [FACT]


async def test_a_dm_request_for_approvers_who_cannot_see_it_is_denied_at_once(
    scene: Scene,
) -> None:
    world = scene.world
    alice, bob = world.alice["id"], world.bob["id"]
    audience = Audience(f"discord:dm:{alice}", AudienceKind.DM, world.alice_dm["id"], alice)
    request = waiting_request("discord", scene.runtime.default_agent.id, audience, (bob,))
    assert scene.adapter.approvals is not None
    assert await scene.runtime.store.approvals.put(request)
    scene.llm.push(tool_call("send_message", message="Bob would have to approve that."))
    await scene.adapter.approvals.ask_approval(request)

    notice, answer = await scene.replies(world.alice_dm, 2)
    assert notice.content == (
        f"Denied: archival_memory_insert needs the approval of {bob}, and none of them can "
        "see this conversation, so it did not run. Ask for it where one of them can see it."
    )
    assert not notice.payload.get("components")
    assert answer.content == "Bob would have to approve that."
    # Nothing of Alice's DM went anywhere else.
    assert scene.discord.all_posted() == scene.discord.posted(world.alice_dm["id"])
    assert "rotates" not in notice.content
    decided = await scene.runtime.store.approvals.get(request.id)
    assert decided is not None
    assert decided.status is ApprovalStatus.DENIED
