"""Slack's assistant surface end to end: signed ``assistant_thread_*`` events and messages in
the assistant thread, through slack-bolt's ``AsyncAssistant``, the real engine and store, and
the fake Slack Web API (which records the greeting, prompts, title and status line)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.slack.assistant import (
    NAMESPACE,
    THREAD_DAYS,
    AssistantThreads,
    KeyValueThreadContexts,
)
from engine import Audience, AudienceKind, InboundKind, Passage, Scope, new_id, utcnow
from tests.fakes import slack_payloads
from tests.fakes.openai_server import FakeOpenAI, tool_call
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.slack_world import TEAM, TURN_S, SlackWorld, remember_anns_birthday, slack_bot

WORKSPACE = f"slack:{TEAM}"
THREAD = "1700000100.000100"
DM_CHANNEL = "DUANN"


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[SlackWorld]:
    api = FakeSlackApi(
        team_id=TEAM,
        users=slack_payloads.USERS,
        channels=slack_payloads.CHANNELS,
        assistant_threads=True,
    )
    await api.start()
    try:
        async with FakeOpenAI() as llm, slack_bot(tmp_path, llm, api) as w:
            yield w
    finally:
        await api.stop()


def thread_started(user: str = "UANN", viewing: str = "CGEN") -> dict[str, Any]:
    return {
        "type": "assistant_thread_started",
        "assistant_thread": {
            "user_id": user,
            "context": {"channel_id": viewing, "team_id": TEAM},
            "channel_id": f"D{user}",
            "thread_ts": THREAD,
        },
        "event_ts": "1700000100.000200",
    }


def context_changed(viewing: str) -> dict[str, Any]:
    started = thread_started(viewing=viewing)
    return started | {"type": "assistant_thread_context_changed"}


def in_thread(text: str, ts: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "message",
        "channel": DM_CHANNEL,
        "channel_type": "im",
        "user": "UANN",
        "text": text,
        "ts": ts,
        "thread_ts": THREAD,
        **extra,
    }


async def prompts_shown(world: SlackWorld) -> list[dict[str, str]]:
    await world.api.wait_until(
        lambda: bool(world.api.calls_of("assistant.threads.setSuggestedPrompts")), within=TURN_S
    )
    [call] = world.api.calls_of("assistant.threads.setSuggestedPrompts")
    assert (call.args["channel_id"], call.args["thread_ts"]) == (DM_CHANNEL, THREAD)
    prompts = call.args["prompts"]
    return json.loads(prompts) if isinstance(prompts, str) else list(prompts)


async def test_a_new_user_opens_the_assistant_and_sees_a_greeting_and_prompts(
    world: SlackWorld,
) -> None:
    assert await world.send(thread_started()) == 200
    prompts = await prompts_shown(world)
    assert 1 <= len(prompts) <= 4
    assert all(p["title"] and p["message"] for p in prompts)
    [greeting] = await world.replies(1, DM_CHANNEL)
    assert greeting["thread_ts"] == THREAD
    assert greeting["text"].startswith("Hi Ann!")
    assert world.llm.chat_requests == []  # opening a thread starts no turn


async def test_prompts_come_from_the_users_own_memory_and_never_another_audience(
    world: SlackWorld,
) -> None:
    store, agent = world.runtime.store, world.runtime.default_agent.id
    await remember_anns_birthday(world)

    def passage(text: str, scope: Scope, user: str) -> Passage:
        return Passage(new_id(), agent, WORKSPACE, scope, text, users=(user,))

    await store.passages.insert(
        [
            passage("Ann leads the secret merger", Scope.private("GSECRET"), "UANN"),
            passage("Ben is moving to Lisbon", Scope.dm("UBEN"), "UBEN"),
        ]
    )
    await world.send(thread_started())
    prompts = await prompts_shown(world)
    shown = json.dumps(prompts)
    assert "lemon" in shown  # what Ann told the agent in her DM
    assert "merger" not in shown  # learned in a private channel
    assert "Lisbon" not in shown  # another user's DM
    [greeting] = await world.replies(1, DM_CHANNEL)
    assert greeting["text"].startswith("Welcome back, Ann")


async def test_a_retried_thread_start_greets_once(world: SlackWorld) -> None:
    for retry in range(3):
        assert await world.send(thread_started(), event_id="EvStart", retry=retry) == 200
    await world.replies(1, DM_CHANNEL)
    await world.quiet()
    assert len(world.api.posted(DM_CHANNEL)) == 1
    assert len(world.api.calls_of("assistant.threads.setSuggestedPrompts")) == 1


async def test_the_channel_the_user_views_is_recorded_with_the_thread(world: SlackWorld) -> None:
    await world.send(thread_started(viewing="CGEN"))
    await prompts_shown(world)
    assert await world.send(context_changed("GSECRET")) == 200
    contexts = KeyValueThreadContexts(world.runtime.store.kv)

    async def viewing() -> str | None:
        found = await contexts.find(channel_id=DM_CHANNEL, thread_ts=THREAD)
        return found.channel_id if found else None

    assert await viewing() == "GSECRET"


async def test_a_message_in_the_thread_is_a_dm_turn_with_a_title_and_status_steps(
    world: SlackWorld,
) -> None:
    world.llm.push(
        tool_call("archival_memory_search", query="birthday"),
        tool_call("core_memory_append", label="human", content="Ann likes lemon cake."),
        tool_call("send_message", message="Noted, lemon it is."),
    )
    assert await world.send(in_thread("I like lemon cake", "1700000101.000100")) == 200
    [reply] = await world.replies(1, DM_CHANNEL)
    assert (reply["text"], reply["thread_ts"]) == ("Noted, lemon it is.", THREAD)

    [inbound] = world.intake.inbounds
    assert inbound.audience == Audience(WORKSPACE, AudienceKind.DM, DM_CHANNEL, "UANN")
    assert inbound.thread == THREAD
    [title] = world.api.calls_of("assistant.threads.setTitle")
    assert title.args["title"] == "I like lemon cake"

    def statuses() -> list[str]:
        return [c.args["status"] for c in world.api.calls_of("assistant.threads.setStatus")]

    # The status is cleared once the turn is done (a streamed reply shows before that).
    await world.api.wait_until(lambda: statuses()[-1:] == [""], within=TURN_S)
    shown = statuses()
    assert shown[0] == "is thinking..."
    assert shown.index("searching memory…") < shown.index("updating notes…")


async def test_a_slow_status_line_shows_the_steps_in_order_and_none_after_the_reply(
    world: SlackWorld,
) -> None:
    # Slack takes 200 ms to show each status: the tools run on meanwhile.
    world.api.hang("assistant.threads.setStatus", 0.2, times=1_000)
    world.llm.push(
        tool_call("archival_memory_search", query="birthday"),
        tool_call("conversation_search", query="cake"),
        tool_call("core_memory_append", label="human", content="Ann likes lemon cake."),
        tool_call("send_message", message="Noted, lemon it is."),
    )
    assert await world.send(in_thread("I like lemon cake", "1700000101.000100")) == 200
    await world.replies(1, DM_CHANNEL)
    await world.api.wait_until(
        lambda: world.api.calls_of("assistant.threads.setStatus")[-1].args["status"] == "",
        within=TURN_S,
    )
    await world.quiet()
    methods = [c.method for c in world.api.calls]
    statuses = [c.args["status"] for c in world.api.calls_of("assistant.threads.setStatus")]
    assert statuses[0] == "is thinking..."
    assert statuses[-1] == ""  # cleared last, after every step
    # In the tools' order; one still waiting when a newer came may have been skipped.
    order = ["searching memory…", "searching past conversations…", "updating notes…"]
    steps = [s for s in statuses if s.endswith("…")]
    assert steps, statuses
    assert set(steps) <= set(order), statuses
    assert steps == sorted(steps, key=order.index)
    assert len(set(steps)) == len(steps)
    # Every step was sent before the reply's first text.
    reply_at = min(
        methods.index(m) for m in ("chat.startStream", "chat.postMessage") if m in methods
    )
    last_step_at = max(
        i
        for i, c in enumerate(world.api.calls)
        if c.method == "assistant.threads.setStatus" and c.args["status"].endswith("…")
    )
    assert last_step_at < reply_at


async def test_an_edit_in_the_thread_still_changes_what_is_remembered(world: SlackWorld) -> None:
    edited = in_thread(
        "",
        "1700000102.000200",
        subtype="message_changed",
        message={"type": "message", "user": "UANN", "text": "new", "ts": "1700000102.000100"},
        previous_message={
            "type": "message",
            "user": "UANN",
            "text": "old",
            "ts": "1700000102.000100",
            "thread_ts": THREAD,
        },
    )
    assert await world.send(edited) == 200
    [inbound] = world.intake.inbounds
    assert inbound.kind is InboundKind.EDIT
    assert inbound.text == "new"


async def test_what_is_kept_about_a_thread_is_forgotten_after_a_month(world: SlackWorld) -> None:
    await world.send(thread_started())
    await prompts_shown(world)
    kv = world.runtime.store.kv
    assert len(await kv.list(NAMESPACE)) == 2  # the viewed channel, and that it was greeted

    async def no_messages() -> None:
        raise AssertionError("no message is handled here")

    threads = AssistantThreads(world.runtime.user_data, kv, no_messages)
    assert await threads.prune(utcnow() + timedelta(days=THREAD_DAYS - 1)) == 0
    assert await threads.prune(utcnow() + timedelta(days=THREAD_DAYS + 1)) == 2
    assert await kv.list(NAMESPACE) == []
