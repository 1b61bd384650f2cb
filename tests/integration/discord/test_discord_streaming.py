"""Discord replies streamed by editing one message as the model writes: edits keep to the
edit interval, the last one shows the whole reply, and the reply is never posted twice."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from adapters.chunking import split_message
from adapters.discord import DiscordAdapter, DiscordDelivery
from adapters.discord.delivery import MESSAGE_LIMIT
from adapters.discord.streaming import EDIT_INTERVAL
from engine.audience import Audience, AudienceKind
from engine.records import Author, Inbound, Outbound, new_id, utcnow
from tests.fakes.discord_rest import FakeDiscord
from tests.fakes.discord_world import DiscordWorld, NoInbox, NoMemory, bot_config, eventually
from tests.fakes.openai_server import tool_call
from tests.integration.discord.conftest import Scene, scene_running

ANSWER = (
    "Streaming on Discord edits a single message while the model writes, "
    "at most once a second, and the last edit shows every word of the reply."
)


@pytest.fixture
async def streaming(tmp_path: Path) -> AsyncIterator[Scene]:
    async with scene_running(tmp_path, stream_replies=True) as running_scene:
        # A model writing for about two seconds: several edit intervals.
        running_scene.llm.stream_pacing.piece = 8
        running_scene.llm.stream_pacing.gap = 0.1
        yield running_scene


async def test_a_streamed_reply_is_edited_within_the_interval_and_ends_whole(
    streaming: Scene,
) -> None:
    scene = streaming
    scene.llm.push(tool_call("send_message", message=ANSWER))
    question = await scene.mention(scene.world.general, "tell me about streaming")

    channel = scene.world.general["id"]
    await eventually(
        lambda: [m.content for m in scene.discord.posted(channel)] == [ANSWER],
        "the whole reply in one message",
    )
    await scene.quiet()
    [reply] = scene.discord.posted(channel)
    assert reply.content == ANSWER
    assert reply.reply_to == question["id"]
    assert scene.llm.chat_requests[-1]["stream"] is True

    edits = [edit for edit in scene.discord.message_edits if edit[0] == reply.id]
    assert len(edits) >= 1, "the message grew by edits"
    assert edits[-1][2] == ANSWER
    # Each edit shows more of the reply, and they keep Discord's pace.
    shown = [content for _, _, content in edits]
    assert all(ANSWER.startswith(content) for content in shown)
    assert shown == sorted(shown, key=len)
    # Without pacing they would come every 0.1 s, as the model writes; the margin is the
    # requests' own jitter on a busy machine.
    gaps = [later - earlier for earlier, later in itertools.pairwise(at for _, at, _ in edits)]
    assert all(gap >= EDIT_INTERVAL * 0.75 for gap in gaps), gaps


async def test_streaming_off_posts_the_reply_whole(tmp_path: Path) -> None:
    async with scene_running(tmp_path, stream_replies=False) as scene:
        scene.llm.push(tool_call("send_message", message=ANSWER))
        await scene.mention(scene.world.general, "tell me about streaming")
        [reply] = await scene.replies(scene.world.general)
        assert reply.content == ANSWER
        await scene.quiet()
        assert scene.discord.message_edits == []
        assert "stream" not in scene.llm.chat_requests[-1]


@pytest.mark.parametrize("length", [len(ANSWER), 4_500])
async def test_a_stream_that_broke_off_is_completed_in_place_by_the_replys_delivery(
    fake: FakeDiscord, world: DiscordWorld, length: int
) -> None:
    text = (ANSWER * 40)[:length]
    channel = world.general["id"]
    question = Inbound(
        platform="discord",
        agent_id="agent-1",
        audience=Audience("discord:1", AudienceKind.PUBLIC, channel),
        thread="",
        author=Author(world.alice["id"], "alice"),
        text="tell me",
        event_id="E1",
        message_ref="1",
        sent_at=utcnow(),
    )
    draft = Outbound(new_id(), new_id(), "discord", "agent-1", "discord:1", channel, "", "")
    adapter = DiscordAdapter(bot_config(fake), NoInbox(), NoMemory())
    await adapter.start()
    try:
        port: DiscordDelivery = adapter.platform_port
        stream = await port.open_stream(draft, question)
        await stream.append(text[:40])
        # The process dies here; the turn runs again and its reply is delivered.
        posted_id = await port.deliver(replace(draft, text=text))
    finally:
        await adapter.stop()

    posted = fake.posted(channel)
    assert [m.content for m in posted] == split_message(text, MESSAGE_LIMIT)
    assert posted[0].id == posted_id
    assert [(edit[0], edit[2]) for edit in fake.message_edits] == [(posted_id, posted[0].content)]
