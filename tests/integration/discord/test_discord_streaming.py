"""Discord replies streamed by editing one message as the model writes: edits keep to the
edit interval, the last one shows the whole reply, and the reply is never posted twice."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.discord.streaming import EDIT_INTERVAL
from tests.fakes.discord_world import eventually
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
