"""A block edit is stored with the lineage of its new lines, on both stores: a run stopped
before its outcome is applied (a crash, a turn given up and retried) leaves no line that a
forget cannot find."""

from __future__ import annotations

from engine.agent.memory import TurnMemory
from engine.forgetting import Forgetting
from engine.records import Agent, Author
from engine.store.lineage import Derived, DerivedRecord, block_line_id
from engine.store.protocol import Store
from tests.contract.records import AGENT, PUBLIC, message


async def test_an_edited_line_is_found_from_its_source_before_the_run_ends(
    store: Store,
) -> None:
    agent = Agent(AGENT, "Ada", "gpt-test", "", ())
    await store.agents.put(agent)
    said = message("the launch is called wuzzlefrump")
    await store.messages.append([said])
    memory = TurnMemory(
        store.blocks,
        agent,
        PUBLIC,
        speaker=Author("alice", "Alice"),
        channel_name="#general",
        lineage=store.lineage,
    )
    memory.provenance.read([said.id])

    view = await memory.append("channel", "Launch: wuzzlefrump.")

    [part] = view.parts
    line = DerivedRecord(Derived.BLOCK_LINE, block_line_id(part.id, "Launch: wuzzlefrump."))
    assert line in await store.lineage.derived_from([said.id])
    await Forgetting(store).remove_derived([said.id])
    edited = await store.blocks.get(part.id)
    assert edited is not None
    assert "wuzzlefrump" not in edited.value


async def test_an_edit_that_loses_its_race_stores_nothing(store: Store) -> None:
    agent = Agent(AGENT, "Ada", "gpt-test", "", ())
    memory = TurnMemory(
        store.blocks, agent, PUBLIC, speaker=Author("alice", "Alice"), channel_name="#general"
    )
    [part] = (await memory.append("channel", "First line.")).parts
    assert await store.blocks.update(part.id, part.version + 5, "Stale.") is None
    current = await store.blocks.get(part.id)
    assert current is not None
    assert current.value == "First line."
