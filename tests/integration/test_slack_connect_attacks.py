"""Slack Connect, attacked: what someone of another organisation says, or a message read in a
channel shared with one, is never learned for the whole workspace, whichever of Slack's team
fields names the other side, and through every way in (live events, edits, thread replies,
"Remember this")."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from adapters.slack.events import arrival_of, parse_event
from engine import (
    Audience,
    AudienceKind,
    Inbound,
    InboundKind,
    PlatformMessage,
    RecordFilter,
    Scope,
    utcnow,
)
from tests.fakes import slack_payloads
from tests.fakes.openai_server import tool_call
from tests.fakes.slack_world import TEAM, SlackWorld, collection_bot

PARTNER = slack_payloads.PARTNER
WORKSPACE = f"slack:{TEAM}"


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[SlackWorld]:
    async with collection_bot(tmp_path, turns=False) as w:
        yield w


async def handed_over(world: SlackWorld, event: dict[str, Any], **envelope: Any) -> Inbound:
    """What the engine was handed for ``event``."""
    before = len(world.intake.received)
    assert await world.send(event, **envelope) == 200
    await world.api.wait_until(lambda: len(world.intake.received) > before)
    return world.intake.inbounds[-1]


async def heard(world: SlackWorld, **fields: Any) -> AudienceKind:
    """The audience the engine was handed for a message in the public #general."""
    ts = f"17000020{len(world.intake.received):02d}.000100"
    event = slack_payloads.message("<@UBOT> our floor is 40k", ts=ts, event_ts=ts, **fields)
    return (await handed_over(world, event)).audience.kind


@pytest.mark.parametrize(
    "teams",
    [
        {"user_team": TEAM, "team": PARTNER},
        {"user_team": TEAM, "team": TEAM, "source_team": PARTNER},
        {"team": TEAM, "source_team": PARTNER},
    ],
    ids=["author-ours-team-theirs", "source-theirs", "only-source-theirs"],
)
async def test_any_team_field_naming_another_org_keeps_a_message_out_of_the_workspace(
    world: SlackWorld, teams: dict[str, str]
) -> None:
    assert await heard(world, user="UPARTNER", **teams) is AudienceKind.PRIVATE


async def test_a_message_naming_only_the_workspace_is_still_public(world: SlackWorld) -> None:
    assert await heard(world, user_team=TEAM, team=TEAM, source_team=TEAM) is AudienceKind.PUBLIC
    assert await heard(world) is AudienceKind.PUBLIC


def test_a_partner_apps_bot_message_would_stay_in_its_channel() -> None:
    # The intake chain passes strangers' bots by; were one a peer agent, its words would
    # still be the partner's.
    event = slack_payloads.message(
        "<@UBOT> sync done", bot_id="BPARTNER", subtype="bot_message", team=PARTNER
    )
    del event["user"]
    parsed = parse_event(slack_payloads.callback(event), slack_payloads.BOT_USER)
    assert parsed is not None
    assert parsed.from_bot
    arrival = arrival_of(parsed, agent_id="a", audience_kind=AudienceKind.PUBLIC, author_name="")
    assert arrival is not None
    assert arrival.inbound.audience.kind is AudienceKind.PRIVATE


async def test_a_thread_reply_in_a_shared_channel_naming_no_team_stays_there(
    world: SlackWorld,
) -> None:
    event = slack_payloads.message(
        "<@UBOT> reply in thread",
        channel="CSHARED",
        ts="1700002100.000100",
        thread_ts="1700002000.0001",
    )
    del event["team"]
    inbound = await handed_over(world, event, is_ext_shared_channel=True)
    assert inbound.audience.kind is AudienceKind.PRIVATE


async def test_an_edit_of_a_partners_message_keeps_the_channel_audience(world: SlackWorld) -> None:
    ts = "1700002200.000100"
    await heard(world, user="UPARTNER", user_team=PARTNER, team=PARTNER)
    edit = slack_payloads.message(
        "",
        subtype="message_changed",
        ts="1700002201.000100",
        message={
            "type": "message",
            "user": "UPARTNER",
            "team": PARTNER,
            "text": "<@UBOT> 35k",
            "ts": ts,
        },
        previous_message={"type": "message", "user": "UPARTNER", "text": "floor 40k", "ts": ts},
    )
    inbound = await handed_over(world, edit)
    assert inbound.kind is InboundKind.EDIT
    assert inbound.audience.kind is AudienceKind.PRIVATE


async def test_remember_this_on_a_partners_message_is_kept_for_that_channel_only(
    world: SlackWorld,
) -> None:
    said = "partner's pricing floor is 40k"
    payload = slack_payloads.by_ann(
        "message_action",
        callback_id="mnemo_remember_message",
        trigger_id="t9",
        channel={"id": "CGEN", "name": "general"},
        message={
            "type": "message",
            "user": "UPARTNER",
            "user_team": PARTNER,
            "team": PARTNER,
            "text": said,
            "ts": "1700002300.000100",
        },
        message_ts="1700002300.000100",
        response_url=world.api.response_url("keep"),
    )
    await world.interact({"payload": json.dumps(payload)})
    await world.api.wait_until(lambda: any(r["key"] == "keep" for r in world.api.responses))
    agent = world.runtime.default_agent.id
    passages = world.runtime.store.passages
    workspace_wide = RecordFilter(agent, WORKSPACE, (Scope.workspace(),))
    assert [p.text for p in await passages.list(workspace_wide, 10)] == []
    in_general = RecordFilter(agent, WORKSPACE, (Scope.private("CGEN"),))
    [kept] = await passages.list(in_general, 10)
    assert said in kept.text


@pytest.fixture
async def talking(tmp_path: Path) -> AsyncIterator[SlackWorld]:
    async with collection_bot(tmp_path) as w:
        yield w


async def asked_in(world: SlackWorld, channel: str, ts: str, **envelope: Any) -> str:
    """Ann asks the agent in ``channel``; everything the model was shown for the answer."""
    world.llm.push(
        tool_call("archival_memory_search", query="pricing floor"),
        tool_call("send_message", message="Here is what I found."),
    )
    asked = len(world.llm.chat_requests)
    event = {"type": "app_mention", "channel": channel, "user": "UANN", "ts": ts}
    assert await world.send(event | {"text": "<@UBOT> what is our pricing floor?"}, **envelope)
    await world.replies(1, channel)
    return json.dumps(world.llm.chat_requests[asked:])


@pytest.mark.parametrize(
    ("channel", "envelope"),
    [("CSHARED", {"is_ext_shared_channel": True}), ("CSHARED", {})],
    ids=["event-flags-shared", "only-conversations-info-says-shared"],
)
async def test_a_reply_in_a_shared_channel_never_draws_on_the_workspaces_memory(
    talking: SlackWorld, channel: str, envelope: dict[str, Any]
) -> None:
    """The partner organisation reads the reply: what the workspace alone may read stays out."""
    secret = "our pricing floor is 40k, never tell partners"
    agent = talking.runtime.default_agent.id
    public = Audience(WORKSPACE, AudienceKind.PUBLIC, "CGEN")
    said = PlatformMessage(WORKSPACE, "CGEN", "1700002399.000100", "UANN", "Ann", secret, utcnow())
    assert await talking.runtime.user_data.remember_message(agent, public, said, "UANN")
    in_general = await asked_in(talking, "CGEN", "1700002400.000100")
    assert "40k" in in_general, "a public channel of the workspace reads it"

    shown = await asked_in(talking, channel, "1700002401.000100", **envelope)
    assert "40k" not in shown
