"""Feedback buttons under the agent's replies, end to end: the reply posted with thumbs up and
down, a press recorded with the turn (on the real store), counted in the metrics, listed by
the inspector's store, forgotten with the person, and a clear private answer for a press that
names a reply no longer kept or a button Mnemo does not know."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from engine import Feedback, Rating, Role
from jobs.consolidation import ConsolidationJob
from tests.fakes import slack_payloads
from tests.fakes.openai_server import FakeOpenAI, tool_call
from tests.fakes.slack_world import TEAM, TURN_S, SlackWorld, collection_bot
from tests.integration.test_inspector_api import inspector_running
from tests.integration.test_jobs_world import WORKSPACE as JOBS_WORKSPACE
from tests.integration.test_jobs_world import World, dm, open_world

WORKSPACE = f"slack:{TEAM}"
BASE_TIME = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[SlackWorld]:
    async with collection_bot(tmp_path) as w:
        yield w


async def answered(world: SlackWorld) -> dict[str, Any]:
    """Ann DMs the agent; its reply, as posted."""
    world.llm.push(tool_call("send_message", message="Lemon cake it is."))
    dm = {"type": "message", "channel": "DUANN", "channel_type": "im", "user": "UANN"}
    await world.send(dm | {"text": "which cake?", "ts": "1700000001.000100"})
    [reply] = await world.replies(1, "DUANN")
    return reply


def buttons(reply: dict[str, Any]) -> dict[str, Any]:
    [row] = [b for b in reply["blocks"] if b["type"] == "context_actions"]
    [element] = row["elements"]
    assert element["type"] == "feedback_buttons"
    return dict(element)


async def press(
    world: SlackWorld,
    action_id: str,
    value: str,
    key: str,
    *,
    channel: str = "DUANN",
    user: str = "UANN",
) -> None:
    action = slack_payloads.block_action(action_id)
    action["actions"][0] |= {"type": "feedback_buttons", "value": value}
    action["response_url"] = world.api.response_url(key)
    action["channel"] = {"id": channel}
    action["user"]["id"] = user
    await world.interact({"payload": json.dumps(action)})


async def private_answer(world: SlackWorld, key: str) -> dict[str, Any]:
    await world.api.wait_until(lambda: any(r["key"] == key for r in world.api.responses))
    return next(r for r in world.api.responses if r["key"] == key)


def rated(world: SlackWorld, rating: str) -> float:
    value = world.runtime.metrics.registry.get_sample_value(
        "mnemo_replies_rated_total", {"platform": "slack", "rating": rating}
    )
    return value or 0.0


async def test_a_reply_carries_feedback_buttons_and_a_press_is_kept_with_its_turn(
    world: SlackWorld,
) -> None:
    reply = await answered(world)
    element = buttons(reply)
    [section] = [b for b in reply["blocks"] if b["type"] == "section"]
    assert section["text"]["text"] == reply["text"] == "Lemon cake it is."

    good, bad = element["positive_button"]["value"], element["negative_button"]["value"]
    await press(world, "mnemo_feedback", good, "good")
    store = world.runtime.store
    turn = good.split(":")[1]
    await world.api.wait_until(lambda: rated(world, "good") == 1)
    [kept] = await store.feedback.for_turns([turn])
    assert (kept.user, kept.rating, kept.workspace, kept.channel) == (
        "UANN",
        Rating.GOOD,
        WORKSPACE,
        "DUANN",
    )
    [inbox] = world.intake.received
    assert kept.turn_id == inbox[1].inbox_id

    # Changing one's mind replaces the rating; both presses are counted.
    await press(world, "mnemo_feedback", bad, "bad")
    await world.api.wait_until(lambda: rated(world, "bad") == 1)
    [kept] = await store.feedback.for_turns([turn])
    assert kept.rating is Rating.BAD
    assert [f.rating for f in await store.feedback.recent(10, WORKSPACE)] == [Rating.BAD]
    await world.quiet()
    assert world.api.responses == []  # a kept rating needs no answer: the buttons show it

    exported = json.loads(await world.runtime.user_data.export_user(WORKSPACE, "UANN"))
    assert [(r["rating"], r["channel"]) for r in exported["ratings"]] == [("bad", "DUANN")]
    await world.runtime.user_data.forget_user(WORKSPACE, "UANN")
    assert await store.feedback.for_turns([turn]) == []


async def test_a_reply_streamed_into_a_thread_ends_with_feedback_buttons(
    world: SlackWorld,
) -> None:
    world.llm.push(tool_call("send_message", message="Streamed, then rated."))
    mention = {"type": "app_mention", "channel": "CGEN", "user": "UANN", "ts": "1700000005.000100"}
    await world.send(mention | {"text": "<@UBOT> stream please"})
    [reply] = await world.replies(1, "CGEN")
    assert world.api.calls_of("chat.startStream"), "the reply was streamed"
    assert reply["text"] == "Streamed, then rated."
    value = buttons(reply)["positive_button"]["value"]
    # The stream ends while the turn is still being written; its reply is kept just after.
    turn = value.split(":")[1]
    async with asyncio.timeout(TURN_S):
        await world.runtime.engine.wait_settled(turn)
    await press(world, "mnemo_feedback", value, "streamed", channel="CGEN")
    await world.api.wait_until(lambda: rated(world, "good") == 1)


async def test_feedback_on_a_reply_no_longer_kept_records_nothing_and_says_so(
    world: SlackWorld,
) -> None:
    reply = await answered(world)
    good = buttons(reply)["positive_button"]["value"]
    rating, turn, _ = good.split(":")
    await press(world, "mnemo_feedback", f"{rating}:{turn}:no-such-reply", "gone")
    answer = await private_answer(world, "gone")
    assert answer["response_type"] == "ephemeral"
    assert "feedback was not recorded" in answer["text"]
    assert await world.runtime.store.feedback.for_turns([turn]) == []
    assert rated(world, "good") == 0


async def test_a_press_from_another_channel_or_person_rates_nothing(world: SlackWorld) -> None:
    reply = await answered(world)
    good = buttons(reply)["positive_button"]["value"]
    turn = good.split(":")[1]
    # The reply's feedback id, pressed in a public channel, and in Ann's DM by someone else.
    await press(world, "mnemo_feedback", good, "elsewhere", channel="CGEN")
    await press(world, "mnemo_feedback", good, "not-ann", user="UBEN")
    for key in ("elsewhere", "not-ann"):
        answer = await private_answer(world, key)
        assert answer["response_type"] == "ephemeral"
        assert "feedback was not recorded" in answer["text"]
    assert await world.runtime.store.feedback.for_turns([turn]) == []
    assert rated(world, "good") == 0

    # Ann, in her DM, still rates it.
    await press(world, "mnemo_feedback", good, "ann")
    await world.api.wait_until(lambda: rated(world, "good") == 1)
    [kept] = await world.runtime.store.feedback.for_turns([turn])
    assert (kept.user, kept.channel) == ("UANN", "DUANN")


async def test_a_forged_feedback_value_is_refused_privately(world: SlackWorld) -> None:
    await press(world, "mnemo_feedback", "great:whatever", "forged")
    answer = await private_answer(world, "forged")
    assert answer["response_type"] == "ephemeral"
    assert "could not read" in answer["text"]
    assert await world.runtime.store.feedback.recent(10) == []


async def test_an_unknown_button_gets_a_private_answer_and_changes_nothing(
    world: SlackWorld,
) -> None:
    action = slack_payloads.block_action("mnemo_button_from_an_old_version")
    action["response_url"] = world.api.response_url("unknown")
    await world.interact({"payload": json.dumps(action)})
    answer = await private_answer(world, "unknown")
    assert answer["response_type"] == "ephemeral"
    assert "don't know that button" in answer["text"]
    await world.quiet()
    assert world.api.posted() == []
    assert len(world.api.responses) == 1


@pytest.fixture
async def jobs_world(tmp_path: Path) -> AsyncIterator[World]:
    async with open_world("sqlite", tmp_path) as opened:
        yield opened


async def test_consolidation_reads_how_the_replies_of_a_conversation_were_rated(
    jobs_world: World,
) -> None:
    world = jobs_world
    await world.said(dm("alice"), "alice", "Which cake should I bake?", turn="turn-a")
    await world.said(dm("alice"), "alice", "Carrot cake.", role=Role.ASSISTANT, turn="turn-a")
    await world.said(dm("bob"), "bob", "Hi", role=Role.ASSISTANT, turn="turn-b")
    await world.store.feedback.put(
        Feedback("r-1", "alice", Rating.BAD, world.agent.id, JOBS_WORKSPACE, "D-alice", "turn-a")
    )
    await world.store.feedback.put(
        Feedback("r-2", "bob", Rating.GOOD, world.agent.id, JOBS_WORKSPACE, "D-bob", "turn-b")
    )
    world.llm.push(tool_call("finish_memory_pass", note="nothing"))
    await world.runner().run_job(world.memory_job(ConsolidationJob))

    [alices] = [
        json.dumps(r["messages"]) for r in world.llm.chat_requests if "Carrot" in json.dumps(r)
    ]
    assert "user alice rated the assistant's reply not helpful" in alices
    assert "user bob" not in alices  # another conversation's rating stays there


async def test_the_inspector_lists_ratings_newest_first_with_their_counts(
    tmp_path: Path,
) -> None:
    async with FakeOpenAI() as llm, inspector_running(tmp_path, llm) as inspector:
        store, agent = inspector.bot.runtime.store, inspector.agent
        for reply, rating, minutes in (("r-1", Rating.GOOD, 1), ("r-2", Rating.BAD, 2)):
            at = BASE_TIME + timedelta(minutes=minutes)
            await store.feedback.put(
                Feedback(reply, "UANN", rating, agent, WORKSPACE, "DUANN", f"t-{reply}", at)
            )
        listed = await inspector.get("/feedback", workspace=WORKSPACE)
        assert [(f["reply_id"], f["rating"], f["turn_id"]) for f in listed["feedback"]] == [
            ("r-2", "bad", "t-r-2"),
            ("r-1", "good", "t-r-1"),
        ]
        assert listed["counts"] == {"good": 1, "bad": 1}
        assert (await inspector.get("/feedback", workspace="slack:TOTHER"))["feedback"] == []
