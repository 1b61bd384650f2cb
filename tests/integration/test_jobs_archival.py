"""Archival hygiene merges repeated facts; channel digests summarise a busy day once."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from engine.audience import Audience, Scope
from engine.records import Passage, new_id
from engine.store.protocol import RecordFilter
from jobs import RunStatus
from jobs.digests import DigestJob
from jobs.hygiene import HygieneJob
from tests.fakes.openai_server import text
from tests.integration.test_jobs_world import (
    BACKENDS,
    EVERY_S,
    World,
    dm,
    open_world,
    private,
    public,
)

DIM = 8


@pytest.fixture(params=BACKENDS)
async def world(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[World]:
    async with open_world(request.param, tmp_path) as opened:
        yield opened


def vector(angle: float) -> tuple[float, ...]:
    """A unit vector in the plane of the first two axes: cosine between two is cos(Δangle)."""
    return (math.cos(angle), math.sin(angle), *([0.0] * (DIM - 2)))


class AngleEmbedder:
    """Embeds each known text at its angle, as a model placing paraphrases close would."""

    name = "test-angles"
    dimensions = DIM

    def __init__(self) -> None:
        self.angles: dict[str, float] = {}

    async def embed(self, texts: Sequence[str]) -> Any:
        return np.array([vector(self.angles[t]) for t in texts], dtype=np.float32)


async def keep(
    world: World,
    embedder: AngleEmbedder,
    audience: Audience,
    content: str,
    angle: float,
    *,
    ago: timedelta,
    users: tuple[str, ...] = (),
    tags: tuple[str, ...] = (),
) -> Passage:
    embedder.angles[content] = angle
    passage = Passage(
        id=new_id(),
        agent_id=world.agent.id,
        workspace=audience.workspace,
        scope=audience.write_scope,
        text=content,
        tags=tags,
        users=users,
        created_at=world.clock.now - ago,
        embedding=vector(angle),
    )
    await world.store.passages.insert([passage])
    return passage


async def texts(world: World, audience: Audience) -> list[Passage]:
    where = RecordFilter(world.agent.id, audience.workspace, (audience.write_scope,))
    return await world.store.passages.list(where, 100)


async def test_near_duplicates_merge_and_the_newer_fact_wins(world: World) -> None:
    channel = public("general")
    angles = AngleEmbedder()
    await world.said(channel, "ivy", "some activity")
    await keep(
        world, angles, channel, "Standup is at 9:30.", 0.0, ago=timedelta(days=3), users=("ivy",)
    )
    await keep(world, angles, channel, "Standup is at 9:30!", 0.1, ago=timedelta(days=2))
    newest = await keep(
        world,
        angles,
        channel,
        "Standup moved to 10:00.",
        0.2,
        ago=timedelta(hours=1),
        tags=("team",),
    )
    distinct = await keep(
        world, angles, channel, "The wiki lives on Notion.", 1.2, ago=timedelta(hours=2)
    )
    secret = await keep(world, angles, dm("ivy"), "Standup is at 9:30.", 0.0, ago=timedelta(days=1))

    job = HygieneJob(world.store, angles, world.settings(duplicate_similarity=0.95), EVERY_S)
    records = await world.runner().run_job(job)
    assert {r.status for r in records} == {RunStatus.OK}

    kept = await texts(world, channel)
    assert sorted(p.text for p in kept) == ["Standup moved to 10:00.", "The wiki lives on Notion."]
    merged = next(p for p in kept if p.text == newest.text)
    assert (merged.users, merged.tags) == (("ivy",), ("team",))
    assert distinct.id in {p.id for p in kept}
    # Same words under another scope are another audience's record: left alone.
    assert [p.id for p in await texts(world, dm("ivy"))] == [secret.id]

    # Storing the same fact again later: the repeat replaces the kept one.
    world.clock.advance(hours=2)
    await keep(world, angles, channel, "Standup moved to 10:00.", 0.2, ago=timedelta(0))
    await world.runner().run_job(job)
    assert sorted(p.text for p in await texts(world, channel)) == [
        "Standup moved to 10:00.",
        "The wiki lives on Notion.",
    ]


async def test_a_busy_channels_day_gets_one_digest_for_its_audience(world: World) -> None:
    world.clock.now = datetime(2026, 3, 4, 8, 0, tzinfo=UTC)
    yesterday = timedelta(hours=20)
    for i in range(6):
        await world.said(
            private("launch"), "jo" if i % 2 else "kim", f"launch item {i}", ago=yesterday
        )
    await world.said(public("quiet"), "jo", "one lonely message", ago=yesterday)
    for i in range(6):
        await world.said(dm("jo"), "jo", f"private note {i}", ago=yesterday)
    await world.said(private("launch"), "kim", "today's message", ago=timedelta(hours=1))

    world.llm.push(text("The team listed six launch items; Kim and Jo split them."))
    job = world.memory_job(DigestJob, digest_min_messages=5)
    records = await world.runner().run_job(job)
    assert [(r.target.split("/")[2:], r.status) for r in records] == [
        (["launch", "2026-03-03"], RunStatus.OK)
    ]
    prompt = world.llm.chat_requests[0]["messages"][1]["content"]
    assert "launch item 0" in prompt
    assert "today's message" not in prompt

    where = RecordFilter.for_audience(world.agent.id, private("launch"))
    digest = [p for p in await world.store.passages.list(where, 10) if "digest" in p.tags]
    assert len(digest) == 1
    assert digest[0].text.startswith("Digest of launch on 2026-03-03: The team listed")
    assert (digest[0].scope, digest[0].users) == (Scope.private("launch"), ("jo", "kim"))
    for elsewhere in (public("launch"), dm("jo")):
        seen = RecordFilter.for_audience(world.agent.id, elsewhere)
        assert not [p for p in await world.store.passages.list(seen, 10) if "digest" in p.tags]

    world.clock.advance(hours=2)
    assert await world.runner().run_job(job) == []
    assert len(world.llm.chat_requests) == 1
