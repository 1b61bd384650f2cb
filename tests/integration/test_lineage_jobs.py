"""Lineage written by background jobs: consolidation's passes, hygiene's merges and channel
digests are each found from the messages they came from, on both stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from engine.agent.memory import TurnMemory
from engine.records import Author
from engine.store.lineage import Derived, block_line_id, links
from engine.store.protocol import RecordFilter
from jobs.consolidation import ConsolidationJob
from jobs.digests import DigestJob
from jobs.hygiene import HygieneJob
from tests.fakes.openai_server import text, tool_call
from tests.integration.test_jobs_archival import AngleEmbedder, keep, texts, world
from tests.integration.test_jobs_world import EVERY_S, World, private, public

__all__ = ["world"]


async def test_what_consolidation_writes_is_derived_from_the_messages_its_pass_read(
    world: World,
) -> None:
    channel = public("general")
    alices = await world.said(channel, "alice", "The launch codename is wuzzlefrump.")
    world.llm.push(
        tool_call("core_memory_append", label="channel", content="Alice: launch wuzzlefrump."),
        tool_call("archival_memory_insert", content="Launch codename wuzzlefrump."),
        tool_call("finish_memory_pass"),
    )
    await world.runner().run_job(world.memory_job(ConsolidationJob))

    memory = TurnMemory(
        world.store.blocks,
        world.agent,
        channel,
        speaker=Author("alice", "Alice"),
        channel_name="general",
    )
    [part] = (await memory.view("channel")).parts
    derived = await world.store.lineage.derived_from([alices.id])
    assert (Derived.BLOCK_LINE, block_line_id(part.id, "Alice: launch wuzzlefrump.")) in {
        (r.kind, r.record_id) for r in derived
    }
    [passage] = await texts(world, channel)
    assert (Derived.PASSAGE, passage.id) in {(r.kind, r.record_id) for r in derived}


async def test_a_hygiene_merge_keeps_the_sources_of_every_duplicate(world: World) -> None:
    channel = public("general")
    angles = AngleEmbedder()
    await world.said(channel, "ivy", "some activity")
    old = await keep(world, angles, channel, "Standup is at 9:30.", 0.0, ago=timedelta(days=2))
    new = await keep(
        world, angles, channel, "Standup is at 9:30!", 0.1, ago=timedelta(hours=1), tags=("team",)
    )
    await world.store.lineage.link(
        [
            *links(Derived.PASSAGE, old.id, ["ivy-said"], channel.workspace),
            *links(Derived.PASSAGE, new.id, ["joe-said"], channel.workspace),
        ]
    )
    job = HygieneJob(world.store, angles, world.settings(duplicate_similarity=0.95), EVERY_S)
    await world.runner().run_job(job)

    [survivor] = await texts(world, channel)
    assert survivor.text == new.text
    sources = await world.store.lineage.sources_of(Derived.PASSAGE, [survivor.id])
    assert {"ivy-said", "joe-said"} <= set(sources[survivor.id])


async def test_a_digest_is_derived_from_the_messages_it_summarised(world: World) -> None:
    world.clock.now = datetime(2026, 3, 4, 8, 0, tzinfo=UTC)
    yesterday = timedelta(hours=20)
    said = [
        await world.said(private("launch"), "jo" if i % 2 else "kim", f"item {i}", ago=yesterday)
        for i in range(6)
    ]
    today = await world.said(private("launch"), "kim", "today's", ago=timedelta(hours=1))
    world.llm.push(text("Six launch items, split between Kim and Jo."))
    await world.runner().run_job(world.memory_job(DigestJob, digest_min_messages=5))

    where = RecordFilter.for_audience(world.agent.id, private("launch"))
    [digest] = [p for p in await world.store.passages.list(where, 10) if "digest" in p.tags]
    sources = await world.store.lineage.sources_of(Derived.DIGEST, [digest.id])
    assert set(sources[digest.id]) == {m.id for m in said}
    assert today.id not in sources[digest.id]
