"""Attacks on the privacy rule (DESIGN §3) through every path by which memory reaches a turn.

Each test drives the whole runtime: a message in, the scripted model's tool calls, and the
exact requests the model received, which must never hold what the audience may not see.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from engine.agent.memory import TurnMemory
from engine.audience import Audience, Scope
from engine.records import Author
from jobs.consolidation import ConsolidationJob
from jobs.digests import DigestJob
from tests.fakes.openai_server import FakeOpenAI, text, tool_call
from tests.harness import bot_running, dm, private, public, settings_for
from tests.integration.test_jobs_world import open_world


@pytest.fixture
async def llm() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as server:
        yield server


def whole_request(request: dict[str, Any]) -> str:
    return json.dumps(request["messages"])


def tool_results(request: dict[str, Any]) -> list[str]:
    return [m["content"] for m in request["messages"] if m["role"] == "tool"]


async def test_a_channel_made_public_does_not_replay_its_private_history(
    tmp_path: Path, llm: FakeOpenAI
) -> None:
    """A channel opened to everyone keeps its conversation key; the window and the summary
    of that conversation still hold what only its former members heard."""
    async with bot_running(settings_for(tmp_path, llm), llm) as bot:
        llm.push(tool_call("send_message", message="Noted."))
        await bot.say(private("launch"), "dan", "Layoffs are planned for March, keep it quiet.")
        llm.push(tool_call("send_message", message="Hi all."))
        await bot.say(public("launch"), "erin", "hello everyone")
        assert "Layoffs" not in whole_request(llm.chat_requests[-1])


async def test_a_private_conversations_summary_is_not_read_once_the_channel_is_public(
    tmp_path: Path, llm: FakeOpenAI
) -> None:
    settings = settings_for(tmp_path, llm, MNEMO_CONTEXT_BUDGET=3000, MNEMO_AGENT="brief")
    async with bot_running(settings, llm) as bot:
        filler = " ".join(f"line {k} of the plan" for k in range(25))
        for i in range(25):
            await bot.say(private("launch"), "dan", f"Codename BLUEFIN step {i}: {filler}")
        assert any("tools" not in r for r in llm.chat_requests), "a summary was written"
        for i in range(25):
            await bot.say(public("launch"), "erin", f"Public note {i}: {filler}")
            assert "BLUEFIN" not in whole_request(llm.chat_requests[-1])
        # Summaries written for the public audience never folded in the private one.
        assert all("BLUEFIN" not in whole_request(r) for r in llm.chat_requests[-30:])


async def test_forget_removes_a_users_words_from_a_channels_summary(
    tmp_path: Path, llm: FakeOpenAI
) -> None:
    """What a user said in a public channel, folded into its summary, goes with ``forget``."""
    settings = settings_for(tmp_path, llm, MNEMO_CONTEXT_BUDGET=3000, MNEMO_AGENT="brief")
    async with bot_running(settings, llm) as bot:
        filler = " ".join(f"line {k} of the plan" for k in range(25))
        llm.push(tool_call("send_message", message="Noted."))
        await bot.say(public("general"), "alice", "My salary is 185k, do not tell anyone.")
        for i in range(20):
            await bot.say(public("general"), "erin", f"Note {i}: {filler}")
        assert "185k" in whole_request(llm.chat_requests[-1]), "folded into the summary"
        await bot.runtime.user_data.forget_user("test:W1", "alice")
        await bot.say(public("general"), "erin", "anything else?")
        assert "185k" not in whole_request(llm.chat_requests[-1])


async def channel_block(memory_of: TurnMemory) -> str:
    return (await memory_of.view("channel")).value


async def test_consolidation_keeps_each_audiences_messages_under_its_own_scope(
    tmp_path: Path,
) -> None:
    """A conversation whose channel changed audience is consolidated one audience at a time:
    a channel made private never has its new, private messages written where the whole
    workspace reads them."""
    async with open_world("sqlite", tmp_path) as world:
        await world.said(public("launch"), "erin", "Launch party is on Friday.")
        await world.said(private("launch"), "dan", "Layoffs are planned for March.")
        world.llm.push(
            tool_call("core_memory_append", label="channel", content="Party on Friday."),
            tool_call("finish_memory_pass"),
            tool_call("core_memory_append", label="channel", content="Layoffs in March."),
            tool_call("finish_memory_pass"),
        )
        job = world.memory_job(ConsolidationJob)
        await world.runner().run_job(job)

        def memory(audience: Audience) -> TurnMemory:
            return TurnMemory(
                world.store.blocks,
                world.agent,
                audience,
                speaker=Author("erin", "Erin"),
                channel_name="launch",
            )

        public_prompts = [
            whole_request(r) for r in world.llm.chat_requests if "Layoffs" not in whole_request(r)
        ]
        assert public_prompts, "the public messages had a pass of their own"
        assert "Layoffs" not in await channel_block(memory(public("launch")))
        assert "Layoffs in March." in await channel_block(memory(private("launch")))


SHARED_TEAM_BLOCK = """\
shared_blocks:
  team: {value: "Team notes.", limit: 4000}
agents:
  - name: alpha
    system_prompt: You are alpha.
    shared_blocks: [team]
"""


async def test_a_shared_block_edited_in_a_users_dm_is_in_their_report_and_export_only(
    tmp_path: Path, llm: FakeOpenAI
) -> None:
    """A DM's part of a shared block is what the bot keeps about that user: shown to them,
    exported for them, and never in another user's report."""
    agents_file = tmp_path / "agents.yml"
    agents_file.write_text(SHARED_TEAM_BLOCK)
    settings = settings_for(tmp_path, llm, MNEMO_AGENTS_FILE=agents_file, MNEMO_AGENT="alpha")
    async with bot_running(settings, llm) as bot:
        llm.push(
            tool_call("core_memory_append", label="team", content="Alice moves to Berlin."),
            tool_call("send_message", message="Noted."),
        )
        await bot.say(dm("alice"), "alice", "I'm moving to Berlin, note it for the team.")
        user_data = bot.runtime.user_data
        report = await user_data.about_user("test:W1", "alice")
        assert ("team", Scope.dm("alice"), "Alice moves to Berlin.") in report.blocks
        assert (
            "Alice moves to Berlin." in (await user_data.export_user("test:W1", "alice")).decode()
        )
        assert "Berlin" not in str(await user_data.about_user("test:W1", "bob"))
        assert "Berlin" not in (await user_data.export_user("test:W1", "bob")).decode()


async def test_a_digest_of_a_channel_made_private_midday_holds_only_its_public_messages(
    tmp_path: Path,
) -> None:
    async with open_world("sqlite", tmp_path) as world:
        world.clock.now = datetime(2026, 3, 4, 8, 0, tzinfo=UTC)
        yesterday = timedelta(hours=20)
        for i in range(6):
            await world.said(public("launch"), "jo", f"party item {i}", ago=yesterday)
            await world.said(private("launch"), "kim", f"layoff item {i}", ago=yesterday)
        world.llm.push(text("Party planning."), text("Party planning."))
        job = world.memory_job(DigestJob, digest_min_messages=5)
        await world.runner().run_job(job)
        assert world.llm.chat_requests, "the day was digested"
        for request in world.llm.chat_requests:
            prompt = whole_request(request)
            assert "party item" in prompt
            assert "layoff" not in prompt


def pipeline_rows(data_dir: Path) -> list[str]:
    """Every inbox and outbox row of the embedded store's file, as JSON text."""
    (database,) = data_dir.rglob("*.sqlite3")
    with sqlite3.connect(database) as db:
        return [
            json.dumps(row)
            for table in ("inbox", "outbox")
            for row in db.execute(f"SELECT * FROM {table}").fetchall()
        ]


async def test_forget_leaves_no_copy_of_a_dm_in_the_pipelines_records(
    tmp_path: Path, llm: FakeOpenAI
) -> None:
    async with bot_running(settings_for(tmp_path, llm), llm) as bot:
        llm.push(tool_call("send_message", message="Your PIN 4321 is safe with me."))
        await bot.say(dm("alice"), "alice", "My bank PIN is 4321")
        llm.push(tool_call("send_message", message="Noted, Bob."))
        await bot.say(dm("bob"), "bob", "My locker code is 9876")
        await bot.runtime.user_data.forget_user("test:W1", "alice")
    kept = pipeline_rows(tmp_path)
    assert not [row for row in kept if "4321" in row]
    assert [row for row in kept if "9876" in row], "another user's messages stay"
