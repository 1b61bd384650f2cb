"""A forget that lands while a background job waits on its model or embedder wins over the
job: what the job writes afterwards from the forgotten person's words (block lines, passages,
a digest, a merged passage) is removed once written, on both stores."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from engine.forgetting import Forgetting
from engine.records import new_id, next_seq
from engine.user_data import UserDataService
from jobs import RunRecord
from jobs.consolidation import ConsolidationJob
from jobs.digests import DigestJob
from jobs.hygiene import HygieneJob
from tests.fakes.openai_server import text, tool_call
from tests.integration.test_forget_complete import dump
from tests.integration.test_jobs_archival import AngleEmbedder, keep, texts, world
from tests.integration.test_jobs_world import EVERY_S, WORKSPACE, World, private, public

__all__ = ["world"]

SECRET = "wuzzlefrump"


async def forgotten_while(world: World, run: Awaitable[list[RunRecord]]) -> list[RunRecord]:
    """Run a job with the model held; forget Alice while it waits, then release it."""
    world.llm.block()
    job = asyncio.ensure_future(run)
    async with asyncio.timeout(20):
        await world.llm.wait_for_in_flight(1)
    await UserDataService(world.store).forget_user(WORKSPACE, "alice")
    world.llm.unblock()
    async with asyncio.timeout(30):
        return await job


async def secret_left(world: World) -> list[str]:
    return [value for value in await dump(world.store) if SECRET[:6] in value]


async def test_forgetting_a_person_during_a_memory_pass_leaves_nothing_it_learned_of_them(
    world: World,
) -> None:
    channel = public("general")
    await world.said(channel, "alice", f"The launch codename is {SECRET}.")
    await world.said(channel, "bob", "Noted, thanks.")
    world.llm.push(
        tool_call("core_memory_append", label="channel", content=f"Launch: {SECRET}."),
        tool_call("core_memory_append", label="human", user="alice", content=f"Has {SECRET}."),
        tool_call("archival_memory_insert", content=f"The launch codename is {SECRET}."),
        tool_call("finish_memory_pass"),
    )
    [record] = await forgotten_while(
        world, world.runner().run_job(world.memory_job(ConsolidationJob))
    )

    assert "3 memory writes" in record.detail, record
    assert await secret_left(world) == []


async def test_a_message_edited_during_a_memory_pass_leaves_nothing_learned_of_its_old_text(
    world: World,
) -> None:
    channel = public("general")
    bobs = await world.said(channel, "bob", "Morning.")
    alices = replace(
        bobs,
        id=new_id(),
        seq=next_seq(),
        author="alice",
        author_name="Alice",
        content=f"The launch codename is {SECRET}.",
        platform_ref="M-1",
    )
    await world.store.messages.append([alices])
    world.llm.push(
        tool_call("core_memory_append", label="channel", content=f"Launch: {SECRET}."),
        tool_call("archival_memory_insert", content=f"The launch codename is {SECRET}."),
        tool_call("finish_memory_pass"),
    )
    world.llm.block()
    run = asyncio.ensure_future(world.runner().run_job(world.memory_job(ConsolidationJob)))
    async with asyncio.timeout(20):
        await world.llm.wait_for_in_flight(1)
    edit = Forgetting(world.store).platform_edit(WORKSPACE, "general", "M-1", "Never mind.")
    assert (await edit)[0] == 1
    world.llm.unblock()
    async with asyncio.timeout(30):
        await run

    assert [v for v in await secret_left(world) if "never mind" not in v] == []


async def test_forgetting_a_person_while_their_day_is_digested_leaves_no_digest_of_it(
    world: World,
) -> None:
    world.clock.now = datetime(2026, 3, 4, 8, 0, tzinfo=UTC)
    yesterday = timedelta(hours=20)
    launch = private("launch")
    await world.said(launch, "alice", f"The codename is {SECRET}.", ago=yesterday)
    for i in range(5):
        await world.said(launch, "kim", f"item {i}", ago=yesterday)
    world.llm.push(text(f"Alice named the launch {SECRET}; Kim listed five items."))
    [record] = await forgotten_while(
        world, world.runner().run_job(world.memory_job(DigestJob, digest_min_messages=5))
    )

    assert record.detail.startswith("digest of"), record
    assert await secret_left(world) == []


class HeldEmbedder(AngleEmbedder):
    """Embeds by angle, holding each call until ``release`` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = asyncio.Event()
        self.release = asyncio.Event()

    async def embed(self, texts: Sequence[str]) -> Any:
        self.entered.set()
        await self.release.wait()
        return await super().embed(texts)


async def test_forgetting_a_person_while_hygiene_merges_their_passage_leaves_none_of_it(
    world: World,
) -> None:
    channel = public("general")
    angles = HeldEmbedder()
    await world.said(channel, "ivy", "some activity")
    bobs = await keep(
        world, angles, channel, "Standup is at 9:30.", 0.0, ago=timedelta(days=2), users=("bob",)
    )
    alices = await keep(
        world,
        angles,
        channel,
        f"Standup is at 9:30 in room {SECRET}.",
        0.1,
        ago=timedelta(hours=1),
        users=("alice",),
    )
    # Not embedded yet: the merge embeds it, and the forget lands while it does.
    await world.store.passages.delete([alices.id])
    await world.store.passages.insert([replace(alices, embedding=None)])
    job = HygieneJob(world.store, angles, world.settings(duplicate_similarity=0.95), EVERY_S)
    run = asyncio.ensure_future(world.runner().run_job(job))
    async with asyncio.timeout(20):
        await angles.entered.wait()
    await UserDataService(world.store).forget_user(WORKSPACE, "alice")
    angles.release.set()
    async with asyncio.timeout(30):
        await run

    assert await secret_left(world) == []
    # Bob's wording was not merged into what was forgotten: it stays.
    assert [p.id for p in await texts(world, channel)] == [bobs.id]
