"""Approval buttons pressed where they do not belong: a button value names its request, but a
press decides it only from the request's own conversation, workspace and platform, so a value
copied into another channel (or typed in another client) decides nothing."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.console.approvals import ConsoleApprovals
from engine import ApprovalStatus, Audience, DecisionOutcome, PressedIn, RecordFilter
from tests.fakes import slack_payloads
from tests.fakes.openai_server import FakeOpenAI, tool_call
from tests.fakes.slack_world import TEAM, SlackWorld, collection_bot
from tests.harness import bot_running, dm, private, public, settings_for
from tests.integration.test_approvals import gated_bot, paused_bot, require_approval
from tests.integration.test_slack_approvals import buttons, kept_passages, prompt, response


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[SlackWorld]:
    async with collection_bot(tmp_path) as w:
        await require_approval(w.runtime)
        yield w


async def press_in(
    world: SlackWorld, value: str, channel: str, key: str, team: str = TEAM
) -> dict[str, object]:
    action = slack_payloads.block_action("mnemo_approve")
    action["user"] = {"id": "UANN", "team_id": team}
    action["team"] = {"id": team}
    action["actions"][0] |= {"value": value}
    action["response_url"] = world.api.response_url(key)
    action["channel"] = {"id": channel}
    await world.interact({"payload": json.dumps(action)})
    return await response(world, key)


async def test_a_slack_button_value_pressed_in_another_channel_decides_nothing(
    world: SlackWorld,
) -> None:
    request_id = buttons(await prompt(world))["mnemo_approve"]
    answer = await press_in(world, request_id, "CGENERAL", "elsewhere")
    assert answer["response_type"] == "ephemeral"
    assert "nothing was decided" in str(answer["text"])
    await world.quiet(0.3)
    assert await kept_passages(world) == []
    stored = await world.runtime.store.approvals.get(request_id)
    assert stored is not None
    assert stored.status is ApprovalStatus.PENDING


async def test_a_slack_button_value_pressed_from_another_workspace_decides_nothing(
    world: SlackWorld,
) -> None:
    request_id = buttons(await prompt(world))["mnemo_approve"]
    answer = await press_in(world, request_id, "DUANN", "team", team="TOTHER")
    assert answer["response_type"] == "ephemeral"
    stored = await world.runtime.store.approvals.get(request_id)
    assert stored is not None
    assert stored.status is ApprovalStatus.PENDING


async def test_the_terminal_cannot_decide_a_slack_request(world: SlackWorld) -> None:
    """`mnemo chat --as UANN` on the same store types the id of Ann's Slack request."""
    request_id = buttons(await prompt(world))["mnemo_approve"]
    out = io.StringIO()
    console = ConsoleApprovals(world.runtime.approvals, out)
    assert await console.answer(f"/approve {request_id}", "UANN")
    assert "nothing was decided" in out.getvalue()
    stored = await world.runtime.store.approvals.get(request_id)
    assert stored is not None
    assert stored.status is ApprovalStatus.PENDING


async def test_another_agents_bot_cannot_decide_a_request(tmp_path: Path, llm: FakeOpenAI) -> None:
    async with paused_bot(tmp_path, llm) as (bot, prompter):
        [request] = prompter.asked
        desk = bot.runtime.approvals
        inbound = request.inbound
        elsewhere = PressedIn(inbound.platform, request.workspace, request.channel, "other-agent")
        refused = await desk.decide_approval(request.id, "alice", True, elsewhere)
        assert refused.outcome is DecisionOutcome.ELSEWHERE
        own = PressedIn(inbound.platform, request.workspace, request.channel, request.agent_id)
        llm.push(tool_call("send_message", message="Saved it."))
        approved = await desk.decide_approval(request.id, "alice", True, own)
        assert approved.outcome is DecisionOutcome.APPROVED


async def test_an_approved_call_writes_only_in_the_audience_that_asked(
    tmp_path: Path, llm: FakeOpenAI
) -> None:
    """The arguments hold what Alice said in her DM; the call was asked in a private channel,
    so what it keeps is readable there, and neither in her DMs nor the workspace."""
    async with bot_running(settings_for(tmp_path, llm), llm) as bot:
        prompter = await gated_bot(bot)
        hr = private("GHR")
        llm.push(tool_call("archival_memory_insert", content="Alice's PIN is 4321."))
        assert await bot.say(hr, "alice", "keep my PIN for the team") == []
        [request] = prompter.asked
        assert request.inbound.audience == hr
        llm.push(tool_call("send_message", message="Kept."))
        approved = await bot.runtime.approvals.decide_approval(request.id, "alice", True)
        assert approved.outcome is DecisionOutcome.APPROVED
        agent = bot.runtime.default_agent.id

        async def kept(audience: Audience) -> list[str]:
            where = RecordFilter.for_audience(agent, audience)
            return [p.text for p in await bot.runtime.store.passages.list(where, 50)]

        assert await kept(hr) == ["Alice's PIN is 4321."]
        assert await kept(dm("alice")) == []
        assert await kept(public("CGEN")) == []
        assert await kept(private("GOTHER")) == []


async def test_the_slack_prompt_shows_arguments_without_mentioning_anyone(
    world: SlackWorld,
) -> None:
    world.llm.push(tool_call("archival_memory_insert", content="```\n<!channel> <@UBEN> & co"))
    message = {"type": "message", "channel": "DUANN", "channel_type": "im", "user": "UANN"}
    await world.send(message | {"text": "remember this", "ts": "1700000001.000100"})
    [posted] = await world.replies(1, "DUANN")
    [section] = [b for b in posted["blocks"] if b["type"] == "section"]
    shown = section["text"]["text"]
    assert "<!channel>" not in shown
    assert "<@UBEN>" not in shown
    assert "&lt;!channel&gt; &lt;@UBEN&gt; &amp; co" in shown
    assert "<@UANN> may approve" in shown
