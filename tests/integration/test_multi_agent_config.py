"""Applying an agents file to the embedded store, and changing an agent's tools while it runs,
through the library and through the ``mnemo agents`` command."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.cli import main
from engine.config import (
    AgentChangeError,
    apply_agents_file,
    attach_tool,
    detach_tool,
    parse_agents_file,
    peer_agents,
    read_agents_file,
)
from engine.messaging import PeerAgent
from engine.records import shared_owner
from engine.store import open_store
from engine.store.protocol import Store

FILE = """\
shared_blocks:
  team: {value: "Ship on Fridays."}
agents:
  - name: planner
    persona: I plan.
    tags: [supervisor]
    tools: [send_message, send_message_to_agents_matching_tags]
    shared_blocks: [team]
  - name: worker
    tags: [worker]
"""


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await open_store(mongodb_uri=None, data_dir=tmp_path, database="mnemo")
    try:
        yield opened
    finally:
        await opened.close()


async def apply(store: Store, text: str) -> tuple[tuple[str, ...], ...]:
    report = await apply_agents_file(
        store,
        parse_agents_file(text, origin="agents.yml", base_dir=Path(".")),
        default_model="gpt-test",
        default_budget=8000,
    )
    return report.created, report.updated, report.unchanged


async def persona_of(store: Store, name: str) -> str:
    agent = await store.agents.by_name(name)
    assert agent is not None
    [part] = [b for b in await store.blocks.list(agent.id) if b.label == "persona"]
    return part.value


async def test_applying_twice_creates_once_and_then_changes_nothing(store: Store) -> None:
    assert await apply(store, FILE) == (("planner", "worker"), (), ())
    assert await apply(store, FILE) == ((), (), ("planner", "worker"))

    planner = await store.agents.by_name("planner")
    assert planner is not None
    assert planner.shared_blocks == ("team",)
    assert planner.model == "gpt-test"
    assert planner.tools == ("send_message", "send_message_to_agents_matching_tags")
    assert await persona_of(store, "planner") == "I plan."
    [team] = await store.blocks.list(shared_owner("team"))
    assert team.value == "Ship on Fridays."
    assert len(await store.agents.list()) == 2


async def test_applying_a_changed_file_updates_agents_and_their_persona(store: Store) -> None:
    await apply(store, FILE)
    before = await store.agents.by_name("planner")
    assert before is not None
    changed = FILE.replace("I plan.", "I plan carefully.").replace("[supervisor]", "[lead]")
    assert await apply(store, changed) == ((), ("planner",), ("worker",))

    after = await store.agents.by_name("planner")
    assert after is not None
    assert (after.id, after.tags, after.version) == (before.id, ("lead",), before.version + 1)
    assert await persona_of(store, "planner") == "I plan carefully."


async def test_tools_attach_and_detach_at_run_time_with_a_version_check(store: Store) -> None:
    await apply(store, FILE)
    worker = await store.agents.by_name("worker")
    assert worker is not None
    assert "send_message_to_agent_async" not in worker.tools

    attached = await attach_tool(
        store, "worker", "send_message_to_agent_async", expected_version=worker.version
    )
    assert attached.tools[-1] == "send_message_to_agent_async"
    assert attached.version == worker.version + 1
    with pytest.raises(AgentChangeError, match="changed meanwhile"):
        await detach_tool(store, "worker", "conversation_search", expected_version=worker.version)
    with pytest.raises(AgentChangeError, match="no tool called 'teleport'"):
        await attach_tool(store, "worker", "teleport")

    detached = await detach_tool(store, "worker", "send_message_to_agent_async")
    assert "send_message_to_agent_async" not in detached.tools
    stored = await store.agents.by_name("worker")
    assert stored == detached


async def test_concurrent_tool_changes_to_one_agent_are_all_kept(store: Store) -> None:
    await apply(store, FILE.replace("    tags: [worker]\n", "    tags: [worker]\n    tools: []\n"))
    tools = ["send_message_to_agent_async", "archival_memory_search", "conversation_search"]
    await asyncio.gather(*(attach_tool(store, "worker", tool) for tool in tools))
    worker = await store.agents.by_name("worker")
    assert worker is not None
    assert sorted(worker.tools) == sorted(tools)


def test_cli_validates_applies_and_attaches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MNEMO_DATA_DIR", str(tmp_path / "data"))
    path = tmp_path / "agents.yml"
    path.write_text(FILE)
    assert main(["agents", "validate", str(path)]) == 0
    assert main(["agents", "apply", str(path)]) == 0
    assert main(["agents", "tools", "attach", "worker", "send_message_to_agent_async"]) == 0
    out = capsys.readouterr().out
    assert "2 agents, valid" in out
    assert "created: planner, worker" in out
    assert "worker (version 2) tools:" in out

    path.write_text(FILE.replace("name: worker", "name: worker\n    max_steps: many"))
    assert main(["agents", "validate", str(path)]) == 1
    assert f"{path}:10 agents.1.max_steps:" in capsys.readouterr().err


async def test_bot_users_named_in_the_file_map_to_the_applied_agents(store: Store) -> None:
    example = Path(__file__).parents[2] / "examples" / "agents.yml"
    agents_file = read_agents_file(example)
    await apply_agents_file(store, agents_file, default_model="m", default_budget=8000)
    planner, researcher = [await store.agents.by_name(n) for n in ("planner", "researcher")]
    assert planner is not None
    assert researcher is not None
    peers = await peer_agents(store.agents, agents_file)
    assert peers["slack"] == {
        "U0PLANNER": PeerAgent(planner.id, "planner"),
        "U0RESEARCH": PeerAgent(researcher.id, "researcher"),
    }
    assert set(peers["discord"].values()) == {PeerAgent(planner.id, "planner")}


async def test_an_agents_answer_limit_and_context_window_come_from_the_file(
    store: Store,
) -> None:
    local = "agents:\n  - name: tiny\n    max_tokens: 256\n    context_window: 4096\n"
    assert await apply(store, local) == (("tiny",), (), ())
    tiny = await store.agents.by_name("tiny")
    assert tiny is not None
    assert (tiny.max_tokens, tiny.context_window) == (256, 4096)

    assert await apply(store, "agents:\n  - name: tiny\n") == ((), ("tiny",), ())
    tiny = await store.agents.by_name("tiny")
    assert tiny is not None
    assert (tiny.max_tokens, tiny.context_window) == (1024, None)
