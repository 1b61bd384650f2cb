"""Kill the bot with SIGKILL while a reply is streaming into Slack, restart it, and check that
the thread ends with one complete reply (the streamed message completed), never two."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.bot_process import BotProcess, crash_bot_environment
from tests.fakes.openai_server import FakeOpenAI, tool_call
from tests.fakes.slack_api import FakeSlackApi

pytestmark = pytest.mark.slow

WAIT = 60.0
CHANNEL = "CGEN"
THREAD = "1700000001.000100"
#: A thread older than every message the fake posts (its ts count up from 1700000001).
EARLIER_THREAD = "1690000000.000100"
ANSWER = "A reply that is still being written when the process dies, then written whole."


def thread_replies(api: FakeSlackApi, thread: str = THREAD) -> list[dict[str, Any]]:
    return [m for m in api.posted(CHANNEL) if m.get("thread_ts") == thread]


@pytest.mark.parametrize("store", ["sqlite", "mongo"])
async def test_killed_mid_stream_ends_with_one_complete_reply(tmp_path: Path, store: str) -> None:
    env = await crash_bot_environment(store, tmp_path / "data")
    api = FakeSlackApi(team_id="T0001", assistant_threads=False)
    await api.start()
    try:
        async with FakeOpenAI() as llm:
            env["OPENAI_BASE_URL"] = llm.base_url
            env["MNEMO_TEST_SLACK_API_URL"] = api.base_url
            llm.stream_pacing.piece = 6
            llm.stream_pacing.gap = 0.05
            # The model stops mid-reply (after a few pieces of the message) until released.
            llm.hold_stream_after(8)
            llm.push(*[tool_call("send_message", message=ANSWER)] * 2)

            def bot(name: str) -> BotProcess:
                return BotProcess(env, tmp_path / f"{name}.log", "tests.e2e.stream_crash_bot")

            async with bot("first") as first:
                said = await first.say("tell me", channel=CHANNEL, thread=THREAD)
                assert said["outcome"] == "accepted", said
                # Once a piece was appended after the start, the stream's ts is recorded.
                await api.wait_until(lambda: bool(api.calls_of("chat.appendStream")), WAIT)
                [partial] = thread_replies(api)
                assert partial["streaming"]
                assert ANSWER.startswith(partial["text"])
                assert partial["text"] != ANSWER
                await first.kill()
            llm.release_stream()

            async with bot("second"):

                def complete() -> bool:
                    return any(
                        m["text"] == ANSWER and not m.get("streaming") for m in thread_replies(api)
                    )

                await api.wait_until(complete, WAIT)
                await asyncio.sleep(1.0)  # room for a wrong second post to show up
    finally:
        await api.stop()
    [reply] = thread_replies(api)
    assert reply["ts"] == partial["ts"], "the streamed message was completed, not replaced"
    assert reply["text"] == ANSWER
    assert api.calls_of("chat.postMessage") == []
    assert len(api.calls_of("chat.startStream")) == 1


@pytest.mark.parametrize("store", ["sqlite", "mongo"])
async def test_killed_before_the_streams_ts_is_recorded_ends_with_one_complete_reply(
    tmp_path: Path, store: str
) -> None:
    env = await crash_bot_environment(store, tmp_path / "data")
    api = FakeSlackApi(team_id="T0001", assistant_threads=False)
    await api.start()
    try:
        async with FakeOpenAI() as llm:
            env["OPENAI_BASE_URL"] = llm.base_url
            env["MNEMO_TEST_SLACK_API_URL"] = api.base_url
            llm.stream_pacing.piece = 6
            llm.stream_pacing.gap = 0.05
            llm.push(*[tool_call("send_message", message=ANSWER)] * 2)
            # Slack starts the stream, but its answer (the stream's ts) never reaches the bot.
            api.hang("chat.startStream", seconds=5.0)

            def bot(name: str) -> BotProcess:
                return BotProcess(env, tmp_path / f"{name}.log", "tests.e2e.stream_crash_bot")

            async with bot("first") as first:
                said = await first.say("tell me", channel=CHANNEL, thread=EARLIER_THREAD)
                assert said["outcome"] == "accepted", said
                await api.wait_until(lambda: bool(thread_replies(api, EARLIER_THREAD)), WAIT)
                [partial] = thread_replies(api, EARLIER_THREAD)
                assert partial["streaming"]
                await first.kill()

            async with bot("second"):

                def complete() -> bool:
                    return any(
                        m["text"] == ANSWER and not m.get("streaming")
                        for m in thread_replies(api, EARLIER_THREAD)
                    )

                await api.wait_until(complete, WAIT)
                await asyncio.sleep(1.0)  # room for a wrong second post to show up
    finally:
        await api.stop()
    [reply] = thread_replies(api, EARLIER_THREAD)
    assert reply["ts"] == partial["ts"], "the orphaned stream was completed, not posted again"
    assert reply["text"] == ANSWER
    assert reply["metadata"]["event_payload"]["part"] == 0
    assert api.calls_of("chat.postMessage") == []
    assert len(api.calls_of("chat.startStream")) == 1
