"""Archival hygiene leaves a document's chunks as they were written: a note that repeats a
chunk never removes it, and two documents with the same paragraph keep both."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from engine import SOURCE_TAG
from jobs import RunStatus
from jobs.hygiene import HygieneJob
from tests.integration.test_jobs_archival import AngleEmbedder, keep, texts
from tests.integration.test_jobs_world import BACKENDS, EVERY_S, World, open_world, public


@pytest.fixture(params=BACKENDS)
async def world(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[World]:
    async with open_world(request.param, tmp_path) as opened:
        yield opened


async def test_hygiene_never_merges_away_a_documents_chunk(world: World) -> None:
    channel = public("general")
    angles = AngleEmbedder()
    await world.said(channel, "ivy", "some activity")
    chunk_tags = (SOURCE_TAG, f"{SOURCE_TAG}:handbook.md")
    first = await keep(
        world, angles, channel, "Leave is thirty days.", 0.0, ago=timedelta(days=2), tags=chunk_tags
    )
    copy_tags = (SOURCE_TAG, f"{SOURCE_TAG}:old-handbook.md")
    copy = await keep(
        world, angles, channel, "Leave is 30 days.", 0.01, ago=timedelta(days=1), tags=copy_tags
    )
    note = await keep(world, angles, channel, "Leave: thirty days.", 0.02, ago=timedelta(hours=1))

    job = HygieneJob(world.store, angles, world.settings(duplicate_similarity=0.95), EVERY_S)
    records = await world.runner().run_job(job)
    assert {r.status for r in records} == {RunStatus.OK}
    assert sorted(p.id for p in await texts(world, channel)) == sorted([first.id, copy.id, note.id])
