"""A block shared by several agents: edits by one are in the others' next step, concurrent
edits never lose an update, and what is written in a DM stays in that DM."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from engine.agent.memory import TurnMemory
from engine.audience import Audience
from engine.ports import ReceiveOutcome
from engine.records import Agent, Author, Inbound, new_id, utcnow
from tests.fakes.openai_server import FakeOpenAI, Step, echo_responder, tool_call
from tests.harness import Bot, bot_running, dm, public, settings_for

JSON = dict[str, Any]

AGENTS_FILE = """\
shared_blocks:
  team: {value: "Team notes.", limit: 4000}
agents:
  - name: alpha
    system_prompt: You are alpha.
    shared_blocks: [team]
  - name: beta
    system_prompt: You are beta.
    shared_blocks: [team]
"""


def system_text(body: JSON) -> str:
    return str(body["messages"][0]["content"])


def tool_results(body: JSON) -> list[str]:
    return [str(m["content"]) for m in body["messages"] if m["role"] == "tool"]


def noting(line_of: dict[str, str]) -> Any:
    """Each agent appends its line to the team block, then says what the tool answered."""

    def respond(body: JSON) -> Step:
        me = system_text(body).removeprefix("You are ").split(".", 1)[0]
        if me not in line_of:
            return echo_responder(body)
        results = tool_results(body)
        if not results:
            return tool_call("core_memory_append", label="team", content=line_of[me])
        return tool_call("send_message", message=results[-1])

    return respond


@pytest.fixture
async def llm() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as server:
        yield server


@pytest.fixture
async def bot(tmp_path: Path, llm: FakeOpenAI) -> AsyncIterator[Bot]:
    path = tmp_path / "agents.yml"
    path.write_text(AGENTS_FILE)
    settings = settings_for(tmp_path, llm, MNEMO_AGENTS_FILE=path, MNEMO_AGENT="alpha")
    async with bot_running(settings, llm) as running:
        yield running


async def agent(bot: Bot, name: str) -> Agent:
    found = await bot.runtime.store.agents.by_name(name)
    assert found is not None
    return found


async def send(bot: Bot, agent_name: str, audience: Audience, user: str, text: str) -> str:
    """Hand a message to an agent; returns its inbox id."""
    ref = new_id()
    result = await bot.runtime.engine.receive(
        Inbound(
            platform="test",
            agent_id=(await agent(bot, agent_name)).id,
            audience=audience,
            thread="",
            author=Author(user, user.capitalize()),
            text=text,
            event_id=ref,
            message_ref=ref,
            sent_at=utcnow(),
        )
    )
    assert result.outcome is ReceiveOutcome.ACCEPTED
    return result.inbox_id


async def settled(bot: Bot, *inbox_ids: str) -> None:
    async with asyncio.timeout(30):
        for inbox_id in inbox_ids:
            await bot.runtime.engine.wait_settled(inbox_id)


async def team_block(bot: Bot, name: str, audience: Audience) -> str:
    memory = TurnMemory(
        bot.runtime.store.blocks,
        await agent(bot, name),
        audience,
        speaker=Author("", ""),
        channel_name="",
        shared=("team",),
    )
    return (await memory.view("team")).value


async def test_two_agents_editing_the_shared_block_at_once_keep_both_edits(
    bot: Bot, llm: FakeOpenAI
) -> None:
    llm.responder = noting({"alpha": "alpha owns the release", "beta": "beta owns the docs"})
    llm.block()
    first = await send(bot, "alpha", public("C1"), "dana", "note your task")
    second = await send(bot, "beta", public("C1"), "dana", "note your task")
    await llm.wait_for_in_flight(2)
    llm.unblock()
    await settled(bot, first, second)

    for name in ("alpha", "beta"):
        lines = (await team_block(bot, name, public("C1"))).splitlines()
        assert lines[0] == "Team notes."
        assert sorted(lines[1:]) == ["alpha owns the release", "beta owns the docs"]


async def test_many_concurrent_edits_from_stale_views_are_all_kept(bot: Bot) -> None:
    # Eight writers: each loses its compare-and-set at most once per other writer, within the
    # eight attempts an edit gets (a ninth would be told to try again, never silently lost).
    alpha, beta = await agent(bot, "alpha"), await agent(bot, "beta")
    memories = [
        TurnMemory(
            bot.runtime.store.blocks,
            (alpha, beta)[i % 2],
            public("C1"),
            speaker=Author("dana", "Dana"),
            channel_name="#c1",
            shared=("team",),
        )
        for i in range(8)
    ]
    await asyncio.gather(*(m.load() for m in memories))  # every view now holds the same version
    await asyncio.gather(*(m.append("team", f"line {i}") for i, m in enumerate(memories)))

    lines = (await team_block(bot, "beta", public("C1"))).splitlines()
    assert sorted(lines[1:]) == sorted(f"line {i}" for i in range(8))


async def test_an_edit_by_one_agent_is_in_the_others_next_step(bot: Bot, llm: FakeOpenAI) -> None:
    llm.responder = noting({"alpha": "Deploy freeze until Monday."})
    await settled(bot, await send(bot, "alpha", public("C1"), "dana", "freeze deploys"))
    llm.responder = echo_responder
    await settled(bot, await send(bot, "beta", public("C2"), "erin", "can I deploy?"))

    beta_saw = system_text(llm.chat_requests[-1])
    assert beta_saw.startswith("You are beta.")
    assert "Deploy freeze until Monday." in beta_saw


async def test_shared_block_edited_in_a_dm_stays_in_that_dm(bot: Bot, llm: FakeOpenAI) -> None:
    llm.responder = noting({"alpha": "Dana is on leave for a medical reason."})
    await settled(bot, await send(bot, "alpha", dm("dana"), "dana", "note my leave"))

    secret = "medical reason"
    assert secret not in await team_block(bot, "beta", public("C1"))
    assert secret not in await team_block(bot, "beta", dm("erin"))
    assert secret in await team_block(bot, "beta", dm("dana"))

    llm.responder = echo_responder
    await settled(bot, await send(bot, "beta", public("C1"), "erin", "who is around?"))
    assert secret not in system_text(llm.chat_requests[-1])
