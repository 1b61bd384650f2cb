"""Consolidation: facts said in a conversation reach the right block, and DMs stay private."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from engine.agent.memory import TurnMemory
from engine.audience import Audience, Scope
from engine.records import Author, Role
from engine.store.protocol import RecordFilter
from jobs import JobSettings, RunStatus
from jobs.consolidation import ConsolidationJob
from tests.fakes.openai_server import FakeOpenAI, tool_call
from tests.harness import bot_running, settings_for
from tests.integration.test_jobs_world import (
    BACKENDS,
    World,
    dm,
    open_world,
    private,
    public,
)

DAY = timedelta(days=1)


@pytest.fixture(params=BACKENDS)
async def world(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[World]:
    async with open_world(request.param, tmp_path) as opened:
        yield opened


def consolidation(world: World, **settings: object) -> ConsolidationJob:
    return world.memory_job(ConsolidationJob, **settings)


async def block_text(world: World, audience: Audience, label: str, user: str) -> str:
    memory = TurnMemory(
        world.store.blocks,
        world.agent,
        audience,
        speaker=Author(user, user),
        channel_name=audience.channel,
    )
    return (await memory.view(label)).value


async def test_fact_from_a_dm_moves_into_that_users_private_human_block(world: World) -> None:
    await world.said(dm("alice"), "alice", "My corgi is called Biscuit.")
    await world.said(dm("alice"), "alice", "Cute!", role=Role.ASSISTANT)
    world.llm.push(
        tool_call("core_memory_append", label="human", content="Has a corgi named Biscuit."),
        tool_call("finish_memory_pass", note="dog"),
    )
    job = consolidation(world)
    records = await world.runner().run_job(job)

    assert [(r.job, r.status) for r in records] == [("consolidate", RunStatus.OK)]
    assert records[0].tokens > 0
    prompt = json.dumps(world.llm.chat_requests[0]["messages"])
    assert "My corgi is called Biscuit." in prompt
    assert "Has a corgi named Biscuit." in await block_text(world, dm("alice"), "human", "alice")
    assert "Biscuit" not in await block_text(world, public("general"), "human", "alice")
    parts = await world.store.blocks.list(world.agent.id, "test:W1")
    assert {p.scope for p in parts if "Biscuit" in p.value} == {Scope.dm("alice")}

    # Nothing new since the checkpoint: the next run asks the model nothing.
    world.clock.advance(minutes=20)
    assert await world.runner().run_job(job) == []
    assert len(world.llm.chat_requests) == 2


async def test_a_dm_fact_never_lands_in_a_public_record(world: World) -> None:
    secret = "interviewing at Initech"
    await world.said(dm("alice"), "alice", f"Between us: I'm {secret}.")
    world.llm.push(
        # The model tries to write the fact where the public could read it.
        tool_call("core_memory_append", label="channel", content=f"Alice is {secret}."),
        tool_call("core_memory_append", label="human", user="bob", content=f"Alice: {secret}."),
        tool_call("archival_memory_insert", content=f"Alice is {secret}.", tags=["career"]),
        tool_call("finish_memory_pass"),
    )
    await world.runner().run_job(consolidation(world))

    refusal = world.llm.chat_requests[1]["messages"][-1]["content"]
    assert "no channel block" in refusal
    for part in await world.store.blocks.list(world.agent.id):
        if secret in part.value:
            assert part.scope == Scope.dm("alice")
    for audience in (public("general"), private("team"), dm("bob")):
        where = RecordFilter.for_audience(world.agent.id, audience)
        assert not [p for p in await world.store.passages.list(where, 100) if secret in p.text]
        for label in ("human", "channel"):
            for user in ("alice", "bob"):
                if label == "channel" and audience.kind == "dm":
                    continue
                assert secret not in await block_text(world, audience, label, user)
    where = RecordFilter.for_audience(world.agent.id, dm("alice"))
    kept = [p for p in await world.store.passages.list(where, 100) if secret in p.text]
    assert [(p.scope, p.users, p.tags) for p in kept] == [
        (Scope.dm("alice"), ("alice",), ("career",))
    ]


async def test_channel_facts_go_to_the_channel_and_each_persons_block(world: World) -> None:
    await world.said(private("launch"), "bob", "We ship the beta on March 3.")
    await world.said(private("launch"), "carol", "I'll write the release notes, I'm the PM.")
    world.llm.push(
        tool_call("core_memory_append", label="channel", content="Beta ships March 3."),
        tool_call("core_memory_append", label="human", user="carol", content="PM; release notes."),
        tool_call("core_memory_append", label="human", content="ambiguous"),
        tool_call("finish_memory_pass"),
    )
    await world.runner().run_job(consolidation(world))

    assert "Beta ships March 3." in await block_text(world, private("launch"), "channel", "bob")
    assert "PM; release notes." in await block_text(world, private("launch"), "human", "carol")
    assert "PM" not in await block_text(world, private("launch"), "human", "bob")
    assert "Beta" not in await block_text(world, public("launch"), "channel", "bob")
    ambiguous = world.llm.chat_requests[3]["messages"][-1]["content"]
    assert "name the person" in ambiguous
    assert "bob (Bob)" in ambiguous


async def test_only_quiet_conversations_are_consolidated(world: World) -> None:
    await world.said(public("busy"), "dan", "still talking", ago=timedelta(minutes=1))
    await world.said(public("quiet"), "erin", "done for today", ago=timedelta(minutes=30))
    job = consolidation(world, idle_minutes=10)
    records = await world.runner().run_job(job)
    assert [r.target.split("/")[2] for r in records] == ["quiet"]

    world.clock.advance(minutes=15)
    records = await world.runner().run_job(job)
    assert [r.target.split("/")[2] for r in records] == ["busy"]


async def test_a_run_over_budget_keeps_its_progress_for_the_next(world: World) -> None:
    for i in range(4):
        await world.said(public("log"), "fay", f"note number {i}", ago=timedelta(minutes=40 - i))
    job = consolidation(world, batch_messages=2)
    first = await world.runner(world.settings(token_budget=900)).run_job(job)
    assert first[0].status is RunStatus.OVER_BUDGET
    assert first[0].tokens <= 900
    conversation = (await world.store.messages.conversations_since(world.clock.now - DAY))[0]
    assert 0 < await job.checkpoint(conversation.conversation) < conversation.last_seq

    world.clock.advance(minutes=20)
    second = await world.runner().run_job(consolidation(world, batch_messages=2))
    assert second[0].status is RunStatus.OK
    read = [json.dumps(r["messages"]) for r in world.llm.chat_requests]
    assert sum("note number 3" in r for r in read) == 1
    assert sum("note number 0" in r for r in read) == 1


async def test_a_message_larger_than_the_budget_is_clipped_and_passed(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    # As large as intake accepts a message (100 KB): several times what a pass may read.
    text = ("log line " * 11_200)[:100_000]
    huge = await world.said(public("dump"), "gil", text, ago=timedelta(hours=1))
    await world.said(public("dump"), "gil", "My badge number is 4471.")
    job = consolidation(world)
    with caplog.at_level(logging.INFO, logger="jobs.consolidation"):
        records = await world.runner().run_job(job)

    assert [r.status for r in records] == [RunStatus.OK]
    assert records[0].tokens <= world.settings().token_budget
    read = json.dumps([r["messages"] for r in world.llm.chat_requests])
    assert "My badge number is 4471." in read
    assert "characters left out of this memory pass" in read
    conversation = (await world.store.messages.conversations_since(world.clock.now - DAY))[0]
    assert await job.checkpoint(conversation.conversation) == conversation.last_seq
    assert [r.getMessage() for r in caplog.records if huge.id in r.getMessage()]


async def test_a_fact_said_to_the_running_bot_reaches_memory_after_consolidation(
    tmp_path: Path,
) -> None:
    async with FakeOpenAI() as llm:
        settings = settings_for(tmp_path, llm, jobs=JobSettings(idle_minutes=0))
        async with bot_running(settings, llm) as bot:
            llm.push(tool_call("send_message", message="Congratulations!"))
            await bot.say(dm("rita"), "rita", "I just adopted a cat called Miso.")
            assert "Miso" not in json.dumps(llm.chat_requests[-1]["messages"][0])

            llm.push(
                tool_call("core_memory_append", label="human", content="Has a cat called Miso."),
                tool_call("finish_memory_pass"),
            )
            records = await bot.runtime.jobs.run_now("consolidate")
            assert [r.status for r in records] == [RunStatus.OK]

            llm.push(tool_call("send_message", message="How is Miso?"))
            await bot.say(dm("rita"), "rita", "Hi again")
            assert "Has a cat called Miso." in llm.chat_requests[-1]["messages"][0]["content"]

            llm.push(tool_call("send_message", message="Morning!"))
            await bot.say(public("general"), "rita", "Morning all")
            assert "Miso" not in json.dumps(llm.chat_requests[-1]["messages"])
