"""Retention deletes old recall per workspace policy, keeping summaries; forget reaches jobs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engine.audience import Scope
from engine.records import Message
from engine.store.protocol import ConversationActivity, RecordFilter
from jobs import RunContext, RunStatus, Target, UserDataWithJobRecords
from jobs.consolidation import ConsolidationJob
from jobs.digests import DigestJob
from jobs.retention import RetentionJob
from tests.fakes.openai_server import text, tool_call
from tests.integration.test_jobs_world import BACKENDS, EVERY_S, World, dm, open_world, public

DAY = timedelta(days=1)


@pytest.fixture(params=BACKENDS)
async def world(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[World]:
    async with open_world(request.param, tmp_path) as opened:
        yield opened


async def remaining(world: World, *messages: Message) -> list[str]:
    left = []
    for m in messages:
        if await world.store.messages.between(m.conversation, m.seq - 1, m.seq):
            left.append(m.content)
    return left


async def test_retention_deletes_old_recall_per_workspace_and_keeps_a_summary(
    world: World,
) -> None:
    general, elsewhere = public("general"), public("general", "test:W2")
    old = await world.said(general, "lee", "We chose Postgres for billing.", ago=40 * DAY)
    old_reply = await world.said(general, "lee", "noted", ago=39 * DAY)
    recent = await world.said(general, "lee", "Billing launched.", ago=10 * DAY)
    other_old = await world.said(elsewhere, "max", "ancient history", ago=40 * DAY)
    job = RetentionJob(world.store, 0, EVERY_S)
    await job.policies.set("test:W1", 30)

    world.llm.push(text("Lee said billing runs on Postgres."))
    records = await world.runner().run_job(job)

    assert [(r.target, r.status) for r in records] == [("test:W1", RunStatus.OK)]
    assert await remaining(world, old, old_reply, recent, other_old) == [
        "Billing launched.",
        "ancient history",
    ]
    summary = await world.store.summaries.get(old.conversation)
    assert summary is not None
    assert (summary.text, summary.through_seq) == (
        "Lee said billing runs on Postgres.",
        old_reply.seq,
    )
    prompt = world.llm.chat_requests[0]["messages"][1]["content"]
    assert "We chose Postgres for billing." in prompt
    assert "Billing launched." not in prompt

    # A later run finds the summary already covers what expires: no model call.
    world.clock.advance(days=25)
    await world.runner().run_job(job)
    assert await remaining(world, recent) == []
    assert len(world.llm.chat_requests) == 2


async def test_default_policy_covers_workspaces_without_their_own(world: World) -> None:
    kept = await world.said(public("a"), "ned", "keep me", ago=90 * DAY)
    dropped = await world.said(public("a", "test:W2"), "ned", "drop me", ago=90 * DAY)
    job = RetentionJob(world.store, 60, EVERY_S)
    await job.policies.set("test:W1", 0)  # this workspace keeps everything
    world.llm.push(text("Ned asked to be dropped."))
    records = await world.runner().run_job(job)
    assert [r.target for r in records] == ["test:W2"]
    assert await remaining(world, kept, dropped) == ["keep me"]


async def test_forget_removes_what_the_jobs_learned_about_a_user(world: World) -> None:
    world.clock.now = datetime(2026, 3, 4, 8, 0, tzinfo=UTC)
    await world.said(dm("olga"), "olga", "I'm moving to Lisbon.")
    await world.said(dm("pat"), "pat", "I'm moving to Oslo.")
    for i in range(3):
        await world.said(public("general"), "olga", f"olga says {i}", ago=20 * timedelta(hours=1))
        await world.said(public("general"), "pat", f"pat says {i}", ago=20 * timedelta(hours=1))
    runner = world.runner(world.settings(concurrency=1))
    consolidation = world.memory_job(ConsolidationJob)
    world.llm.push(
        tool_call("archival_memory_insert", content="Olga is moving to Lisbon."),
        tool_call("finish_memory_pass"),
    )
    await runner.run_job(_only(consolidation, "D-olga"))
    world.llm.push(
        tool_call("archival_memory_insert", content="Pat is moving to Oslo."),
        tool_call("finish_memory_pass"),
    )
    await runner.run_job(_only(consolidation, "D-pat"))
    world.llm.push(text("Olga and Pat chatted."))
    digests = world.memory_job(DigestJob, digest_min_messages=5)
    assert [r.status for r in await runner.run_job(digests)] == [RunStatus.OK]

    since = world.clock.now - 30 * DAY
    dms = {
        a.conversation.channel: a.conversation
        for a in await world.store.messages.conversations_since(since)
    }
    assert await consolidation.checkpoint(dms["D-olga"]) > 0
    removed = await UserDataWithJobRecords(world.store).forget_user("test:W1", "olga")
    assert removed.total > 0
    assert removed.job_records > 0

    everywhere = RecordFilter(
        world.agent.id, "test:W1", (Scope.workspace(), Scope.dm("olga"), Scope.dm("pat"))
    )
    left = [p.text for p in await world.store.passages.list(everywhere, 100)]
    assert left == ["Pat is moving to Oslo."]
    runs = await runner.history.runs()
    assert runs
    assert all("olga" not in str(r.scope) for r in runs)
    assert {r.scope for r in runs} >= {Scope.dm("pat")}
    assert await consolidation.checkpoint(dms["D-olga"]) == 0
    kept = await world.store.jobs.checkpoint(consolidation.name, str(dms["D-pat"]))
    assert kept is not None
    assert kept.scope == Scope.dm("pat")
    assert kept.seq > 0


class _only:  # noqa: N801 - reads as a phrase at the call site
    """Consolidation restricted to one channel, so scripted model steps meet their target."""

    name = "consolidate"
    cadence_s = 900.0

    def __init__(self, job: ConsolidationJob, channel: str) -> None:
        self._job = job
        self._channel = channel

    async def targets(self, now: datetime) -> list[Target[ConversationActivity]]:
        found = await self._job.targets(now)
        return [t for t in found if t.value.conversation.channel == self._channel]

    async def run(self, target: ConversationActivity, ctx: RunContext) -> str:
        return await self._job.run(target, ctx)


async def test_forget_finds_a_summary_retention_kept_after_deleting_what_it_folded(
    world: World,
) -> None:
    general = public("general")
    gone = await world.said(general, "olga", "My locker code is 7391.", ago=40 * DAY)
    await world.said(general, "lee", "Lunch at noon?", ago=40 * DAY)
    job = RetentionJob(world.store, 0, EVERY_S)
    await job.policies.set("test:W1", 30)
    world.llm.push(text("Olga's locker code is 7391; Lee asked about lunch."))
    await world.runner().run_job(job)
    assert await remaining(world, gone) == []
    kept = await world.store.summaries.get(gone.conversation)
    assert kept is not None
    assert "7391" in kept.text

    report = await UserDataWithJobRecords(world.store).forget_user("test:W1", "olga")

    after = await world.store.summaries.get(gone.conversation)
    assert after is None or "7391" not in after.text
    assert report.summaries >= 1
