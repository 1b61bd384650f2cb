"""Slack replies streamed while the model writes them: signed events in, the real engine and
runtime against the fake OpenAI server streaming server-sent events, the reply out through
slack_sdk's chat streaming to the fake Slack Web API, always as one complete message."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.streaming import draft_key, notice_metadata
from engine import DeliveryLedger, Outbound
from tests.fakes.openai_server import FakeOpenAI, tool_call
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.slack_world import TEAM, TURN_S, SlackWorld, collection_api, slack_bot

ANSWER = "Here is a reply long enough to arrive in several pieces, one after another."
STREAM_METHODS = ("chat.startStream", "chat.appendStream", "chat.stopStream")


@pytest.fixture
async def llm() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as server:
        # A model writing: a few characters every 30 ms.
        server.stream_pacing.piece = 6
        server.stream_pacing.gap = 0.03
        yield server


@pytest.fixture
async def api() -> AsyncIterator[FakeSlackApi]:
    async with collection_api() as fake:
        yield fake


@pytest.fixture
async def world(tmp_path: Path, llm: FakeOpenAI, api: FakeSlackApi) -> AsyncIterator[SlackWorld]:
    async with slack_bot(tmp_path, llm, api) as w:
        yield w


def mention(text: str, ts: str) -> dict[str, Any]:
    return {
        "type": "app_mention",
        "channel": "CGEN",
        "user": "UBEN",
        "text": f"<@UBOT> {text}",
        "ts": ts,
    }


def streamed_texts(api: FakeSlackApi) -> list[str]:
    """The text each stream call carried, in order."""
    texts: list[str] = []
    for call in api.calls:
        if call.method in STREAM_METHODS:
            chunks = call.args.get("chunks") or []
            carried = str(call.args.get("markdown_text") or "")
            carried += "".join(str(c.get("text", "")) for c in chunks)
            if carried:
                texts.append(carried)
    return texts


async def one_complete_reply(world: SlackWorld, text: str) -> dict[str, Any]:
    """Wait for ``text`` to be the thread's one reply, finished; return it."""

    def complete() -> bool:
        posted = world.api.posted("CGEN")
        return any(m["text"] == text and not m.get("streaming") for m in posted)

    await world.api.wait_until(complete, within=TURN_S)
    await world.quiet()
    [reply] = world.api.posted("CGEN")
    assert reply["text"] == text
    assert not reply.get("streaming")
    return reply


async def test_a_streamed_reply_arrives_in_pieces_and_once(world: SlackWorld) -> None:
    world.llm.push(tool_call("send_message", message=ANSWER))
    await world.send(mention("tell me something", "1700000101.000100"))
    reply = await one_complete_reply(world, ANSWER)

    assert world.llm.chat_requests[-1]["stream"] is True
    assert reply["thread_ts"] == "1700000101.000100"
    pieces = streamed_texts(world.api)
    assert len(pieces) >= 3, pieces
    assert "".join(pieces) == ANSWER
    assert len(world.api.calls_of("chat.startStream")) == 1
    assert len(world.api.calls_of("chat.stopStream")) == 1
    start = world.api.calls_of("chat.startStream")[0].args
    assert start["recipient_user_id"] == "UBEN"
    assert start["recipient_team_id"] == TEAM
    assert world.api.calls_of("chat.postMessage") == []
    # The finished message names its reply, so a retried delivery finds it in the thread.
    assert reply["metadata"]["event_type"] == "mnemo_reply"


async def test_a_workspace_without_streaming_gets_a_normal_message(world: SlackWorld) -> None:
    world.api.stream_refusal = "unknown_method"
    world.llm.push(
        tool_call("send_message", message=ANSWER),
        tool_call("send_message", message="And a second answer."),
    )
    await world.send(mention("hello", "1700000102.000100"))
    await one_complete_reply(world, ANSWER)
    assert len(world.api.calls_of("chat.postMessage")) == 1
    assert world.api.calls_of("chat.appendStream") == []

    # The workspace is not asked to stream again.
    await world.send(mention("again", "1700000103.000100"))
    await world.api.wait_until(lambda: len(world.api.posted("CGEN")) == 2, within=TURN_S)
    assert len(world.api.calls_of("chat.startStream")) == 1


async def test_a_stream_method_failing_mid_reply_still_ends_in_one_complete_reply(
    world: SlackWorld,
) -> None:
    world.api.fail("chat.appendStream", error="internal_error", times=100)
    world.llm.push(tool_call("send_message", message=ANSWER))
    await world.send(mention("hello", "1700000104.000100"))
    reply = await one_complete_reply(world, ANSWER)

    # The stream's message was completed in place, not posted again.
    assert world.api.calls_of("chat.postMessage") == []
    assert reply["ts"] == world.api.calls_of("chat.update")[-1].args["ts"]
    assert reply["metadata"]["event_payload"]["part"] == 0


async def test_with_streaming_off_the_reply_is_posted_whole(
    tmp_path: Path, llm: FakeOpenAI, api: FakeSlackApi
) -> None:
    async with slack_bot(tmp_path, llm, api, mnemo={"MNEMO_STREAM_REPLIES": False}) as world:
        world.llm.push(tool_call("send_message", message=ANSWER))
        await world.send(mention("hello", "1700000105.000100"))
        await one_complete_reply(world, ANSWER)
    assert "stream" not in llm.chat_requests[-1]
    assert [c for c in api.calls if c.method in STREAM_METHODS] == []


async def unrecorded_stream(world: SlackWorld, thread: str, text: str) -> Outbound:
    """A reply in ``thread`` of #general whose stream a process asked Slack to start, and
    stopped before hearing its ts (its draft is recorded, without the ts)."""
    reply = Outbound(
        id="turn-1.r0",
        inbox_id="turn-1",
        platform="slack",
        agent_id=world.runtime.default_agent.id,
        workspace=f"slack:{TEAM}",
        channel="CGEN",
        thread=thread,
        text=text,
        reply_to=thread,
    )
    ledgers = world.runtime.store.deliveries
    await ledgers.put(DeliveryLedger(draft_key(reply.id), "slack", "CGEN", (), reply.created_at))
    return reply


async def test_a_stream_whose_ts_was_not_recorded_is_found_past_the_bots_other_messages(
    world: SlackWorld,
) -> None:
    # A process asked Slack to start the reply's stream and stopped before hearing its ts;
    # meanwhile the bot posted a notice (with metadata) in the same thread.
    thread = "1690000000.000100"
    client = AsyncWebClient(token="xoxb-scenario", base_url=world.api.base_url)
    notice = await client.chat_postMessage(
        channel="CGEN", thread_ts=thread, text="Learned notes.md", metadata=notice_metadata("f")
    )
    started = await client.chat_startStream(
        channel="CGEN", thread_ts=thread, markdown_text="Here is a rep"
    )
    reply = await unrecorded_stream(world, thread, ANSWER)

    assert await world.adapter.platform_port.deliver(reply) == started["ts"]
    by_ts = {m["ts"]: m for m in world.api.posted("CGEN")}
    completed, kept = by_ts[started["ts"]], by_ts[notice["ts"]]
    assert (completed["text"], completed.get("streaming")) == (ANSWER, False)
    assert kept["text"] == "Learned notes.md"
    assert len(world.api.posted("CGEN")) == 2
    assert len(world.api.calls_of("chat.postMessage")) == 1  # the notice alone
