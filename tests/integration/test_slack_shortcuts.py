"""Message shortcuts end to end: signed ``message_action`` payloads in, the real engine, store
and agent turns (against the fake OpenAI server), private answers out through the response URL
of the fake Slack Web API."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from engine import Derived, RecordFilter, Scope
from tests.fakes import slack_payloads
from tests.fakes.openai_server import tool_call
from tests.fakes.slack_world import (
    ANNS_PUBLIC_TS,
    TEAM,
    SlackWorld,
    collection_bot,
    remember_anns_birthday,
)

WORKSPACE = f"slack:{TEAM}"
SECRET = "the launch code is tangerine"


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[SlackWorld]:
    async with collection_bot(tmp_path) as w:
        yield w


async def shortcut(
    world: SlackWorld,
    callback_id: str,
    key: str,
    *,
    channel: str,
    text: str,
    author: str = "UBEN",
    ts: str = "1700000001.000100",
    by: str = "UANN",
) -> str:
    """``by`` chooses the shortcut on ``author``'s message; the private answer's text."""
    payload = slack_payloads.by_ann(
        "message_action",
        callback_id=callback_id,
        trigger_id="t4",
        channel={"id": channel, "name": "somewhere"},
        message={"type": "message", "user": author, "text": text, "ts": ts},
        message_ts=ts,
        response_url=world.api.response_url(key),
    )
    payload["user"] = {"id": by, "team_id": TEAM}
    await world.interact({"payload": json.dumps(payload)})
    return await answer(world, key)


async def answer(world: SlackWorld, key: str) -> str:
    await world.api.wait_until(lambda: any(r["key"] == key for r in world.api.responses))
    found = next(r for r in world.api.responses if r["key"] == key)
    assert found["response_type"] == "ephemeral"
    return str(found["text"])


async def kept_under(world: SlackWorld, *scopes: Scope) -> list[str]:
    """The texts of the passages the agent keeps under ``scopes``."""
    where = RecordFilter(world.runtime.default_agent.id, WORKSPACE, scopes)
    return [p.text for p in await world.runtime.store.passages.list(where, 10)]


async def searched(world: SlackWorld, channel: str, ts: str) -> str:
    """Ann asks the agent in ``channel``; what its archival search for the code returned."""
    world.llm.push(
        tool_call("archival_memory_search", query="launch code tangerine"),
        tool_call("send_message", message="Here is what I found."),
    )
    asked = len(world.llm.chat_requests)
    event = {"type": "app_mention", "channel": channel, "user": "UANN", "ts": ts}
    await world.send(event | {"text": "<@UBOT> what is the launch code?"})
    await world.replies(1, channel)
    found = [
        m["content"]
        for request in world.llm.chat_requests[asked:]
        for m in request["messages"]
        if m["role"] == "tool"
    ]
    assert found, "the agent's search ran"
    return json.dumps(found)


async def test_remember_this_in_a_private_channel_is_never_recalled_in_a_public_one(
    world: SlackWorld,
) -> None:
    said = await shortcut(world, "mnemo_remember_message", "keep", channel="GSECRET", text=SECRET)
    assert said == "Kept. I'll use it only in this private channel."
    assert await kept_under(world, Scope.private("GSECRET")) == [f"Ben wrote: {SECRET}"]

    assert "tangerine" not in await searched(world, "CGEN", "1700000010.000100")
    assert "tangerine" in await searched(world, "GSECRET", "1700000011.000100")


async def test_remember_this_in_a_public_channel_is_kept_once(world: SlackWorld) -> None:
    text = "standup moves to 10:30"
    first = await shortcut(world, "mnemo_remember_message", "one", channel="CGEN", text=text)
    assert first == "Kept. I'll use it with everyone in this workspace."
    again = await shortcut(world, "mnemo_remember_message", "two", channel="CGEN", text=text)
    assert again == "I already keep that message."
    assert await kept_under(world, Scope.workspace()) == [f"Ben wrote: {text}"]
    assert world.api.posted() == []


async def test_a_message_in_a_channel_the_bot_cannot_see_is_not_kept(world: SlackWorld) -> None:
    said = await shortcut(world, "mnemo_remember_message", "hidden", channel="GHIDDEN", text=SECRET)
    assert "can't see this channel" in said
    hidden = (Scope.workspace(), Scope.private("GHIDDEN"), Scope.dm("UANN"))
    assert await kept_under(world, *hidden) == []


async def test_a_dm_between_people_is_kept_for_the_one_who_asked(world: SlackWorld) -> None:
    said = await shortcut(world, "mnemo_remember_message", "dm", channel="DBENANN", text=SECRET)
    assert said == "Kept. I'll use it only in our DMs."
    assert await kept_under(world, Scope.dm("UANN")) == [f"Ben wrote: {SECRET}"]


async def test_forget_this_forgets_the_authors_message_and_what_came_from_it(
    world: SlackWorld,
) -> None:
    public_ts = ANNS_PUBLIC_TS
    remembered = await remember_anns_birthday(world)
    lineage = world.runtime.store.lineage
    said: dict[str, Any] = {"channel": "CGEN", "text": "my birthday is on 12 March"}
    refused = await shortcut(
        world, "mnemo_forget_message", "ben", author="UANN", by="UBEN", ts=public_ts, **said
    )
    assert refused == "I can only forget messages you wrote."
    assert await lineage.sources_of(Derived.BLOCK_LINE, [remembered.channel_line])

    done = await shortcut(world, "mnemo_forget_message", "ann", author="UANN", ts=public_ts, **said)
    assert done.startswith("Forgotten: that message and what I took from it")
    assert not await lineage.sources_of(Derived.BLOCK_LINE, [remembered.channel_line])
    assert await world.runtime.store.messages.by_ids([remembered.said.id]) == []
    # Her DM, and what came only from it, stay.
    assert await world.runtime.store.passages.get(remembered.passage) is not None


async def test_a_shortcut_that_cannot_be_read_changes_nothing_and_says_so(
    world: SlackWorld,
) -> None:
    payload = slack_payloads.by_ann(
        "message_action",
        callback_id="mnemo_remember_message",
        trigger_id="t4",
        channel={"id": "CGEN"},
        response_url=world.api.response_url("broken"),
    )
    await world.interact({"payload": json.dumps(payload)})
    assert await answer(world, "broken") == "I could not read that message; nothing changed."
    assert any("message shortcut" in reason for _, _, reason in world.intake.rejected)
