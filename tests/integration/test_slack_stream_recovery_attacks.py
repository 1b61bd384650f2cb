"""Finding a stream a stopped process started, attacked: what others wrote in the thread after
the answered message (a person, another app's bot) is never taken for the bot's unfinished
stream, so the bot never overwrites it; the reply is posted anew instead."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fakes.slack_world import SlackWorld, collection_bot
from tests.integration.test_slack_streaming import unrecorded_stream

THREAD = "1690000000.000100"
ANSWER = "The reply the stopped process was streaming."


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[SlackWorld]:
    async with collection_bot(tmp_path, turns=False) as w:
        yield w


@pytest.mark.parametrize(
    "written",
    [
        {"user": "UANN", "text": "a person's words, no metadata"},
        {"user": "UOTHER", "bot_id": "BOTHER", "text": "another app's bot, no metadata"},
        {"user": "UANN", "text": "a person's words", "bot_id": None},
    ],
    ids=["person", "other-bot", "person-null-bot-id"],
)
async def test_a_message_of_someone_else_in_the_thread_is_never_taken_for_the_stream(
    world: SlackWorld, written: dict[str, object]
) -> None:
    theirs = {"channel": "CGEN", "thread_ts": THREAD, "ts": "1690000001.000100", **written}
    world.api.messages.append(dict(theirs))
    # A process asked Slack to start the reply's stream and stopped before hearing its ts.
    reply = await unrecorded_stream(world, THREAD, ANSWER)

    posted_ts = await world.adapter.platform_port.deliver(reply)

    assert posted_ts != theirs["ts"]
    by_ts = {m["ts"]: m for m in world.api.posted("CGEN")}
    assert by_ts[str(theirs["ts"])]["text"] == written["text"]
    assert by_ts[str(posted_ts)]["text"] == ANSWER
    assert world.api.calls_of("chat.update") == []
    assert world.api.calls_of("conversations.replies"), "the thread was searched for the stream"
