"""Kill the bot with SIGKILL while a reply is streaming into Slack, restart it, and check that
the thread ends with one complete reply (the streamed message completed), never two."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
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


@dataclass
class CrashScene:
    """The fake Slack and model, and the crash bot's environment on one store."""

    api: FakeSlackApi
    llm: FakeOpenAI
    env: dict[str, str]
    logs: Path

    def bot(self, name: str) -> BotProcess:
        return BotProcess(self.env, self.logs / f"{name}.log", "tests.e2e.stream_crash_bot")

    def thread_replies(self, thread: str) -> list[dict[str, Any]]:
        return [m for m in self.api.posted(CHANNEL) if m.get("thread_ts") == thread]

    async def restart_until_complete(self, thread: str) -> dict[str, Any]:
        """Run a second bot until ``thread`` shows the whole answer; its one reply."""
        async with self.bot("second"):

            def complete() -> bool:
                return any(
                    m["text"] == ANSWER and not m.get("streaming")
                    for m in self.thread_replies(thread)
                )

            await self.api.wait_until(complete, WAIT)
            await asyncio.sleep(1.0)  # room for a wrong second post to show up
        [reply] = self.thread_replies(thread)
        assert reply["text"] == ANSWER
        assert self.api.calls_of("chat.postMessage") == []
        assert len(self.api.calls_of("chat.startStream")) == 1
        return reply


@asynccontextmanager
async def crash_scene(tmp_path: Path, store: str) -> AsyncIterator[CrashScene]:
    """A model writing ``ANSWER`` slowly (twice: the turn runs again after the kill)."""
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
            yield CrashScene(api, llm, env, tmp_path)
    finally:
        await api.stop()


@pytest.mark.parametrize("store", ["sqlite", "mongo"])
async def test_killed_mid_stream_ends_with_one_complete_reply(tmp_path: Path, store: str) -> None:
    async with crash_scene(tmp_path, store) as scene:
        # The model stops mid-reply (after a few pieces of the message) until released.
        scene.llm.hold_stream_after(8)
        async with scene.bot("first") as first:
            said = await first.say("tell me", channel=CHANNEL, thread=THREAD)
            assert said["outcome"] == "accepted", said
            # Once a piece was appended after the start, the stream's ts is recorded.
            await scene.api.wait_until(lambda: bool(scene.api.calls_of("chat.appendStream")), WAIT)
            [partial] = scene.thread_replies(THREAD)
            assert partial["streaming"]
            assert ANSWER.startswith(partial["text"])
            assert partial["text"] != ANSWER
            await first.kill()
        scene.llm.release_stream()
        reply = await scene.restart_until_complete(THREAD)
    assert reply["ts"] == partial["ts"], "the streamed message was completed, not replaced"


@pytest.mark.parametrize("store", ["sqlite", "mongo"])
async def test_killed_before_the_streams_ts_is_recorded_ends_with_one_complete_reply(
    tmp_path: Path, store: str
) -> None:
    async with crash_scene(tmp_path, store) as scene:
        # Slack starts the stream, but its answer (the stream's ts) never reaches the bot.
        scene.api.hang("chat.startStream", seconds=5.0)
        async with scene.bot("first") as first:
            said = await first.say("tell me", channel=CHANNEL, thread=EARLIER_THREAD)
            assert said["outcome"] == "accepted", said
            await scene.api.wait_until(lambda: bool(scene.thread_replies(EARLIER_THREAD)), WAIT)
            [partial] = scene.thread_replies(EARLIER_THREAD)
            assert partial["streaming"]
            await first.kill()
        reply = await scene.restart_until_complete(EARLIER_THREAD)
    assert reply["ts"] == partial["ts"], "the orphaned stream was completed, not posted again"
    assert reply["metadata"]["event_payload"]["part"] == 0
