"""Approve / Deny buttons in Slack, end to end on the fake Web API: the paused turn posts the
prompt in its conversation, a press by someone else is refused privately, the approver's press
runs the tool once and replaces the prompt, and the agent answers what came of it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from engine import ApprovalRequest, ApprovalStatus, Audience, AudienceKind, RecordFilter
from tests.fakes import slack_payloads
from tests.fakes.openai_server import FakeOpenAI, tool_call
from tests.fakes.slack_world import TEAM, SlackWorld, collection_api, collection_bot, slack_bot
from tests.harness import dm
from tests.integration.test_approvals import require_approval, waiting_request

FACT = "Deploys freeze on Fridays."


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[SlackWorld]:
    async with collection_bot(tmp_path) as w:
        await require_approval(w.runtime)
        yield w


async def prompt(world: SlackWorld) -> dict[str, Any]:
    """Ann asks in her DM; the agent's call waits, and the prompt is posted there."""
    world.llm.push(tool_call("archival_memory_insert", content=FACT))
    message = {"type": "message", "channel": "DUANN", "channel_type": "im", "user": "UANN"}
    await world.send(message | {"text": "remember the freeze", "ts": "1700000001.000100"})
    [posted] = await world.replies(1, "DUANN")
    return posted


def buttons(posted: dict[str, Any]) -> dict[str, str]:
    [row] = [b for b in posted["blocks"] if b["type"] == "actions"]
    return {element["action_id"]: element["value"] for element in row["elements"]}


async def press(world: SlackWorld, action_id: str, value: str, user: str, key: str) -> None:
    action = slack_payloads.block_action(action_id)
    action["user"] = {"id": user, "team_id": TEAM}
    action["actions"][0] |= {"value": value}
    action["response_url"] = world.api.response_url(key)
    action["channel"] = {"id": "DUANN"}
    await world.interact({"payload": json.dumps(action)})


async def response(world: SlackWorld, key: str) -> dict[str, Any]:
    await world.api.wait_until(lambda: any(r["key"] == key for r in world.api.responses))
    return next(r for r in world.api.responses if r["key"] == key)


async def kept_passages(world: SlackWorld) -> list[str]:
    agent = world.runtime.default_agent.id
    where = RecordFilter.for_audience(agent, dm("UANN", f"slack:{TEAM}"))
    return [p.text for p in await world.runtime.store.passages.list(where, 50)]


async def test_the_approver_approves_in_slack_and_the_tool_runs_once(world: SlackWorld) -> None:
    posted = await prompt(world)
    assert "archival_memory_insert" in posted["text"]
    [section] = [b for b in posted["blocks"] if b["type"] == "section"]
    assert "<@UANN> may approve or deny it" in section["text"]["text"]
    assert FACT in section["text"]["text"]
    values = buttons(posted)
    assert set(values) == {"mnemo_approve", "mnemo_deny"}
    request_id = values["mnemo_approve"]

    await press(world, "mnemo_approve", request_id, "UBEN", "ben")
    refused = await response(world, "ben")
    assert refused["response_type"] == "ephemeral"
    assert refused["text"] == "Only UANN may approve or deny this call of archival_memory_insert."
    assert await kept_passages(world) == []

    world.llm.push(tool_call("send_message", message="Noted: freeze on Fridays."))
    await press(world, "mnemo_approve", request_id, "UANN", "ann")
    replaced = await response(world, "ann")
    assert replaced["replace_original"] is True
    assert replaced["text"] == "Approved by UANN: archival_memory_insert ran."
    await world.replies(2, "DUANN")
    assert world.api.posted("DUANN")[-1]["text"] == "Noted: freeze on Fridays."
    assert await kept_passages(world) == [FACT]

    # A second press (a double click, or the same button elsewhere) changes nothing.
    await press(world, "mnemo_deny", request_id, "UANN", "again")
    again = await response(world, "again")
    assert again["response_type"] == "ephemeral"
    assert again["text"].startswith("Already decided. Approved by UANN")
    await world.quiet(0.3)
    assert await kept_passages(world) == [FACT]
    stored = await world.runtime.store.approvals.get(request_id)
    assert stored is not None
    assert stored.status is ApprovalStatus.APPROVED


async def test_a_denied_call_replaces_the_prompt_and_never_runs(world: SlackWorld) -> None:
    request_id = buttons(await prompt(world))["mnemo_deny"]
    world.llm.push(tool_call("send_message", message="Understood, not kept."))
    await press(world, "mnemo_deny", request_id, "UANN", "deny")
    assert (await response(world, "deny"))["text"] == (
        "Denied by UANN: archival_memory_insert did not run."
    )
    await world.replies(2, "DUANN")
    assert world.api.posted("DUANN")[-1]["text"] == "Understood, not kept."
    assert await kept_passages(world) == []


async def test_buttons_posted_before_a_restart_still_decide(tmp_path: Path) -> None:
    async with FakeOpenAI() as llm, collection_api() as api:
        async with slack_bot(tmp_path, llm, api) as before:
            await require_approval(before.runtime)
            request_id = buttons(await prompt(before))["mnemo_approve"]
        async with slack_bot(tmp_path, llm, api) as after:
            llm.push(tool_call("send_message", message="Kept, after the restart."))
            await press(after, "mnemo_approve", request_id, "UANN", "after")
            assert (await response(after, "after"))["text"] == (
                "Approved by UANN: archival_memory_insert ran."
            )
            await after.replies(2, "DUANN")
            assert api.posted("DUANN")[-1]["text"] == "Kept, after the restart."
            assert await kept_passages(after) == [FACT]


async def ask(world: SlackWorld, request: ApprovalRequest) -> None:
    assert world.adapter.approvals is not None
    assert await world.runtime.store.approvals.put(request)
    await world.adapter.approvals.ask_approval(request)


@pytest.mark.parametrize(
    ("audience", "members"),
    [
        (dm("UANN", f"slack:{TEAM}"), None),
        (Audience(f"slack:{TEAM}", AudienceKind.PRIVATE, "GSECRET"), ["UANN", "UBEN"]),
    ],
    ids=["dm", "private-channel"],
)
async def test_a_request_no_approver_can_see_is_denied_at_once_and_says_why(
    world: SlackWorld, audience: Audience, members: list[str] | None
) -> None:
    if members is not None:
        world.api.members[audience.channel] = members
    world.llm.push(tool_call("send_message", message="Nobody who may approve that is here."))
    request = waiting_request("slack", world.runtime.default_agent.id, audience, ("UADMIN",))
    await ask(world, request)

    [notice, answer] = await world.replies(2, audience.channel)
    assert notice["text"] == (
        "Denied: archival_memory_insert needs the approval of UADMIN, and none of them can see "
        "this conversation, so it did not run. Ask for it where one of them can see it."
    )
    assert "blocks" not in notice  # no buttons: nothing left to decide
    assert answer["text"] == "Nobody who may approve that is here."
    # Nothing of the conversation went anywhere else (no DM to the approver).
    assert {m["channel"] for m in world.api.posted()} == {audience.channel}
    asked = json.loads(request.arguments)["content"]
    assert all(asked not in json.dumps(m) for m in world.api.posted())
    decided = await world.runtime.store.approvals.get(request.id)
    assert decided is not None
    assert decided.status is ApprovalStatus.DENIED
    assert await kept_passages(world) == []


async def test_a_private_channel_an_approver_is_in_gets_the_prompt(world: SlackWorld) -> None:
    world.api.members["GSECRET"] = ["UANN", "UADMIN"]
    audience = Audience(f"slack:{TEAM}", AudienceKind.PRIVATE, "GSECRET")
    request = waiting_request("slack", world.runtime.default_agent.id, audience, ("UADMIN",))
    await ask(world, request)
    [posted] = await world.replies(1, "GSECRET")
    assert buttons(posted) == {"mnemo_approve": request.id, "mnemo_deny": request.id}
    pending = await world.runtime.store.approvals.get(request.id)
    assert pending is not None
    assert pending.status is ApprovalStatus.PENDING


async def test_a_private_channel_whose_members_slack_does_not_give_gets_the_prompt(
    world: SlackWorld,
) -> None:
    world.api.drop("conversations.members", times=5)  # past the client's own retry
    audience = Audience(f"slack:{TEAM}", AudienceKind.PRIVATE, "GSECRET")
    request = waiting_request("slack", world.runtime.default_agent.id, audience, ("UADMIN",))
    await ask(world, request)
    [posted] = await world.replies(1, "GSECRET")
    assert buttons(posted) == {"mnemo_approve": request.id, "mnemo_deny": request.id}
    assert [c.method for c in world.api.calls].count("conversations.members") >= 2
