"""``mnemo jobs``: run a job now against the configured store and model, list recorded runs."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from bot.cli import main
from engine.agent.creation import create_agent
from engine.agent.memory import TurnMemory
from engine.records import Author, Message, Role, new_id, next_seq, utcnow
from engine.store import SQLITE_FILE_NAME
from engine.store.sqlite import SQLiteStore
from jobs import JobHistory, RetentionPolicies
from tests.fakes.openai_server import FakeOpenAI, tool_call
from tests.integration.test_jobs_world import dm


async def test_jobs_run_consolidates_and_list_shows_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    store = SQLiteStore(tmp_path / SQLITE_FILE_NAME)
    await store.setup()
    agent = await create_agent(store, "mnemo", model="fake-model")
    audience = dm("quinn")
    await store.messages.append(
        [
            Message(
                id=new_id(),
                agent_id=agent.id,
                workspace=audience.workspace,
                channel=audience.channel,
                thread="",
                scope=audience.write_scope,
                role=Role.USER,
                author="quinn",
                author_name="Quinn",
                content="I'm allergic to peanuts.",
                seq=next_seq(),
                created_at=utcnow() - timedelta(hours=1),
            )
        ]
    )
    async with FakeOpenAI() as llm:
        for name, value in {
            "OPENAI_BASE_URL": llm.base_url,
            "OPENAI_API_KEY": "test-key",
            "MNEMO_DATA_DIR": str(tmp_path),
            "MNEMO_EMBEDDING_MODEL": "text-embedding-3-small",
            "MNEMO_AGENT": "mnemo",
        }.items():
            monkeypatch.setenv(name, value)
        llm.push(
            tool_call("core_memory_append", label="human", content="Allergic to peanuts."),
            tool_call("finish_memory_pass"),
        )
        assert await asyncio.to_thread(main, ["jobs", "run", "consolidate"]) == 0
        ran = capsys.readouterr().out
        assert "consolidate" in ran
        assert " ok " in ran

        assert await asyncio.to_thread(main, ["jobs", "list"]) == 0
        listed = capsys.readouterr().out.splitlines()
        assert listed[0].startswith("started (UTC)")
        assert "1 messages read in 1 passes; 1 memory writes" in listed[1]

        assert await asyncio.to_thread(main, ["jobs", "retention", "test:W1", "30"]) == 0
        assert await asyncio.to_thread(main, ["jobs", "retention", "test:W1", "-1"]) == 2

    memory = TurnMemory(
        store.blocks, agent, audience, speaker=Author("quinn", "Quinn"), channel_name=""
    )
    assert "Allergic to peanuts." in (await memory.view("human")).value
    assert await RetentionPolicies(store.kv, 0).days("test:W1") == 30
    runs = await JobHistory(store.jobs).runs()
    assert [(r.job, r.status.value) for r in runs] == [("consolidate", "ok")]
    await store.close()
