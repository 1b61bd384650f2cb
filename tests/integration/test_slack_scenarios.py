"""Slack end to end: signed Slack requests in, the real engine and agent runtime (against the
fake OpenAI server), replies out through slack_sdk to the fake Slack Web API."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.openai_server import FakeOpenAI, tool_call
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.slack_world import TEAM, TURN_S, SlackWorld, slack_bot


@pytest.fixture
async def llm() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as server:
        yield server


@pytest.fixture
async def api() -> AsyncIterator[FakeSlackApi]:
    fake = FakeSlackApi(
        team_id=TEAM,
        users={
            "UANN": {"name": "ann", "profile": {"display_name": "Ann"}},
            "UBEN": {"name": "ben", "profile": {"display_name": "Ben"}},
        },
        channels={"CGEN": {"name": "general", "is_private": False}},
        assistant_threads=False,
    )
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def world(tmp_path: Path, llm: FakeOpenAI, api: FakeSlackApi) -> AsyncIterator[SlackWorld]:
    async with slack_bot(tmp_path, llm, api) as w:
        yield w


def dm(text: str, ts: str, user: str = "UANN", **extra: Any) -> dict[str, Any]:
    return {
        "type": "message",
        "channel": f"D{user}",
        "channel_type": "im",
        "user": user,
        "text": text,
        "ts": ts,
        **extra,
    }


def mention(text: str, ts: str, user: str = "UBEN", channel: str = "CGEN") -> dict[str, Any]:
    return {
        "type": "app_mention",
        "channel": channel,
        "user": user,
        "text": f"<@UBOT> {text}",
        "ts": ts,
    }


def channel_message(text: str, ts: str, user: str = "UBEN") -> dict[str, Any]:
    return {
        "type": "message",
        "channel": "CGEN",
        "channel_type": "channel",
        "user": user,
        "text": f"<@UBOT> {text}",
        "ts": ts,
    }


async def test_dm_is_answered_in_the_dm(world: SlackWorld) -> None:
    world.llm.push(tool_call("send_message", message="Hi Ann, nice to meet you."))
    assert await world.send(dm("hello there", "1700000001.000100")) == 200
    [reply] = await world.replies(1)
    assert reply["channel"] == "DUANN"
    assert "thread_ts" not in reply
    assert reply["text"] == "Hi Ann, nice to meet you."
    assert "hello there" in json.dumps(world.llm.chat_requests[-1]["messages"])


async def test_mention_is_answered_in_a_thread_on_the_message(world: SlackWorld) -> None:
    world.llm.push(tool_call("send_message", message="On it."))
    assert await world.send(mention("can you help?", "1700000002.000100")) == 200
    [reply] = await world.replies(1, "CGEN")
    assert reply["thread_ts"] == "1700000002.000100"
    assert reply["text"] == "On it."


async def test_retry_storm_gets_one_reply(world: SlackWorld) -> None:
    world.llm.push(tool_call("send_message", message="Only once."))
    ts = "1700000003.000100"
    statuses = [await world.send(mention("hi", ts), event_id="EvStorm", retry=i) for i in range(5)]
    statuses.append(await world.send(channel_message("hi", ts), event_id="EvStormMessage"))
    assert statuses == [200] * 6
    await world.replies(1, "CGEN")
    await world.quiet()
    assert len(world.api.posted("CGEN")) == 1
    assert len(world.llm.chat_requests) == 1


async def test_bad_signature_is_refused_and_never_reaches_the_agent(world: SlackWorld) -> None:
    status = await world.send(dm("sneaky", "1700000004.000100"), secret="wrong")
    assert status == 401
    await world.quiet()
    assert world.llm.chat_requests == []
    assert world.api.posted() == []


async def test_rate_limited_reply_is_retried_and_posted_once(world: SlackWorld) -> None:
    world.api.rate_limit("chat.postMessage", retry_after=1)
    world.llm.push(tool_call("send_message", message="Worth the wait."))
    await world.send(dm("hello", "1700000005.000100"))
    [reply] = await world.replies(1)
    assert reply["text"] == "Worth the wait."
    assert len(world.api.calls_of("chat.postMessage")) == 2
    await world.quiet()
    assert len(world.api.posted()) == 1


async def test_ten_thousand_character_reply_arrives_in_ordered_chunks(world: SlackWorld) -> None:
    sentence = "Mnemo remembers what you tell it, where you told it. "
    code = "```python\n" + "\n".join(f"print({i})" for i in range(150)) + "\n```"
    long_text = (sentence * 150)[:7_000] + "\n\n" + code
    long_text = (long_text + "\n\n" + sentence * 60)[:10_000]
    world.llm.push(tool_call("send_message", message=long_text))
    await world.send(mention("tell me everything", "1700000006.000100"))
    await world.api.wait_until(
        lambda: "print(149)" in "".join(m["text"] for m in world.api.posted("CGEN")),
        within=TURN_S,
    )
    await world.quiet()
    posts = world.api.posted("CGEN")
    assert len(posts) == 3
    assert all(len(p["text"]) <= 4_000 for p in posts)
    assert {p["thread_ts"] for p in posts} == {"1700000006.000100"}
    for post in posts:
        fences = [ln for ln in post["text"].split("\n") if ln.startswith("```")]
        assert len(fences) % 2 == 0
    printed = [ln for p in posts for ln in p["text"].split("\n") if ln.startswith("print(")]
    assert printed == [f"print({i})" for i in range(150)]


async def test_fact_told_in_a_dm_never_reaches_a_channel(world: SlackWorld) -> None:
    secret = "interviewing at Initech next week"
    world.llm.push(
        tool_call("core_memory_append", label="human", content=f"Ann is {secret}."),
        tool_call("send_message", message="Good luck, I'll keep it between us."),
    )
    await world.send(dm(f"Keep this quiet: I'm {secret}.", "1700000007.000100"))
    await world.replies(1, "DUANN")
    dm_requests = len(world.llm.chat_requests)
    # In the channel the model searches every memory it has for Ann's plans.
    world.llm.push(
        tool_call("conversation_search", query="Ann next week"),
        tool_call("archival_memory_search", query="Ann next week"),
    )
    await world.send(mention("what is Ann up to next week?", "1700000008.000100"))
    await world.replies(1, "CGEN")
    channel_requests = world.llm.chat_requests[dm_requests:]
    assert len(channel_requests) >= 3
    for request in channel_requests:
        assert "Initech" not in json.dumps(request["messages"])
    assert all("Initech" not in p["text"] for p in world.api.posted("CGEN"))


async def test_mnemo_forget_really_deletes(world: SlackWorld) -> None:
    world.llm.push(
        tool_call("core_memory_append", label="human", content="Ann's cat is called Miso."),
        tool_call("archival_memory_insert", content="Ann's cat Miso is allergic to fish."),
        tool_call("send_message", message="Noted!"),
    )
    await world.send(dm("My cat Miso is allergic to fish.", "1700000009.000100"))
    await world.replies(1, "DUANN")
    command = {
        "command": "/mnemo",
        "team_id": TEAM,
        "user_id": "UANN",
        "channel_id": "DUANN",
        "response_url": world.api.response_url("cmd"),
        "trigger_id": "t",
    }
    before = await world.interact({**command, "text": "memory"})
    assert "Miso" in before["text"]

    confirm = await world.interact({**command, "text": "forget"})
    [button] = [
        e
        for b in confirm["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "mnemo_forget_confirm"
    ]
    action = {
        "type": "block_actions",
        "team": {"id": TEAM},
        "user": {"id": "UANN"},
        "api_app_id": "A1",
        "trigger_id": "t",
        "container": {"type": "message"},
        "response_url": world.api.response_url("forget"),
        "actions": [button],
    }
    await world.interact({"payload": json.dumps(action)})
    await world.api.wait_until(lambda: any(r["key"] == "forget" for r in world.api.responses))

    report = await world.runtime.user_data.about_user("slack:T0001", "UANN")
    assert report.blocks == ()
    assert report.passages == ()
    assert report.messages == 0
    exported = await world.runtime.user_data.export_user("slack:T0001", "UANN")
    assert b"Miso" not in exported
    after = await world.interact({**command, "text": "memory"})
    assert "Miso" not in after["text"]
