"""A memory pass over talk that people of another organisation heard (a Slack Connect channel,
or a turn with someone outside) reads nothing of the workspace's memory and writes only into
that channel's, as the turns themselves did: the partner organisation reads that memory in
the bot's replies. On both stores."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from engine.agent.memory import TurnMemory
from engine.audience import Audience, AudienceKind, Scope
from engine.records import Author, Passage, new_id
from engine.store.protocol import RecordFilter
from jobs.consolidation import ConsolidationJob
from tests.contract.records import inbox_item
from tests.fakes.openai_server import tool_call
from tests.integration.test_jobs_world import BACKENDS, WORKSPACE, World, open_world, public

SECRET = "pricing floor is 40k"


@pytest.fixture(params=BACKENDS)
async def world(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[World]:
    async with open_world(request.param, tmp_path) as opened:
        yield opened


async def workspace_knows_the_secret(world: World) -> None:
    """A line of Ann's workspace-wide human block, and a passage of the workspace."""
    memory = TurnMemory(
        world.store.blocks,
        world.agent,
        public("general"),
        speaker=Author("ann", "Ann"),
        channel_name="general",
    )
    await memory.append("human", f"Knows our {SECRET}.")
    text = f"Sales: our {SECRET}, never tell partners."
    [vector] = await world.embedder.embed([text])
    await world.store.passages.insert(
        [
            Passage(
                id=new_id(),
                agent_id=world.agent.id,
                workspace=WORKSPACE,
                scope=Scope.workspace(),
                text=text,
                created_at=world.clock.now,
                embedding=tuple(float(x) for x in vector),
            )
        ]
    )


async def consolidated(world: World, channel: Audience) -> str:
    """Ann talks in ``channel`` (kept with her message's inbox item, as the pipeline does) and
    a pass over it searches memory for pricing and writes a line; what the model was shown."""
    item = inbox_item("E-ann", audience=channel, agent=world.agent.id, text="Pricing question")
    assert await world.store.inbox.put(item)
    await world.said(channel, "ann", "What pricing can we offer the partner?", turn=item.id)
    world.llm.push(
        tool_call("archival_memory_search", query="pricing floor partners"),
        tool_call("core_memory_append", label="channel", content="Pricing is being discussed."),
        tool_call("finish_memory_pass"),
    )
    [record] = await world.runner().run_job(world.memory_job(ConsolidationJob))
    assert "memory writes" in record.detail, record
    return json.dumps(world.llm.chat_requests)


async def channel_memory(world: World, channel: Audience) -> str:
    """Every block line and passage stored under the channel's own scope."""
    own = RecordFilter(world.agent.id, WORKSPACE, (channel.write_scope,))
    blocks = await world.store.blocks.list(world.agent.id, WORKSPACE)
    lines = [b.value for b in blocks if b.scope == channel.write_scope]
    return json.dumps(lines + [p.text for p in await world.store.passages.list(own, 100)])


async def test_a_pass_over_a_shared_channel_never_reads_the_workspaces_memory(
    world: World,
) -> None:
    await workspace_knows_the_secret(world)
    shared = Audience(WORKSPACE, AudienceKind.PRIVATE, "CPARTNERS", outside=True)

    shown = await consolidated(world, shared)

    assert SECRET not in shown
    assert "Pricing is being discussed." in await channel_memory(world, shared)
    assert SECRET not in await channel_memory(world, shared)


async def test_a_pass_over_a_private_channel_of_the_workspace_still_reads_it(
    world: World,
) -> None:
    await workspace_knows_the_secret(world)
    inside = Audience(WORKSPACE, AudienceKind.PRIVATE, "CSALES")

    assert SECRET in await consolidated(world, inside)
