"""The pipeline end to end through the real stores: ordering, folding, retries, journal,
duplicates, leases across engines, graceful stop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from engine.audience import Audience, AudienceKind
from engine.core import Engine
from engine.pipeline import FAILED_REPLY, Backoff, JournalEntry, PipelineSettings, TurnOutcome
from engine.pipeline.worker import lease_name
from engine.ports import ReceiveOutcome
from engine.records import InboundKind, Outbound
from engine.store.protocol import RecordFilter, Store
from engine.store.queues import InboxStatus
from tests.e2e.pipeline_doubles import DedupingPort, RecordingRunner, inbound, open_test_store

FAST = PipelineSettings(
    poll_interval=0.05,
    lease_ttl=1.0,
    turn_retry=Backoff(base=0.01, ceiling=0.05),
    delivery_retry=Backoff(base=0.01, ceiling=0.05),
    stop_deadline=0.5,
)


@pytest.fixture(params=["sqlite", "mongo"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    async with open_test_store(request.param, tmp_path) as opened:
        yield opened


async def started(
    store: Store, runner: RecordingRunner, port: DedupingPort, **kw: object
) -> Engine:
    settings = kw.pop("settings", FAST)
    assert isinstance(settings, PipelineSettings)
    engine = Engine(store, runner, platforms=[port], settings=settings, **kw)  # type: ignore[arg-type]
    await engine.start()
    return engine


async def settle(engine: Engine, *inbox_ids: str) -> None:
    async with asyncio.timeout(20):
        for inbox_id in inbox_ids:
            await engine.wait_settled(inbox_id)


async def test_accepted_message_gets_exactly_one_reply(store: Store) -> None:
    runner, port = RecordingRunner(), DedupingPort()
    engine = await started(store, runner, port)
    try:
        result = await engine.receive(inbound("hello"))
        assert result.outcome is ReceiveOutcome.ACCEPTED
        await settle(engine, result.inbox_id)
        assert port.texts() == ["echo: hello"]
        assert port.working_for == ["hello"]
        item = await store.inbox.get(result.inbox_id)
        assert item is not None
        assert item.status is InboxStatus.DONE
        [entry] = await store.outbox.for_inbox(result.inbox_id)
        assert entry.platform_ref == "post-1"
    finally:
        await engine.stop()


async def test_waiting_for_a_message_that_already_settled_returns(store: Store) -> None:
    runner, port = RecordingRunner(), DedupingPort()
    engine = await started(store, runner, port)
    try:
        first = await engine.receive(inbound("hello"))
        await settle(engine, first.inbox_id)
        second = await engine.receive(inbound("again"))
        await settle(engine, second.inbox_id, first.inbox_id, first.inbox_id)
        assert port.texts() == ["echo: hello", "echo: again"]
    finally:
        await engine.stop()


async def test_redelivered_events_collapse_to_one_message(store: Store) -> None:
    engine = Engine(store, RecordingRunner(), settings=FAST)
    first = await engine.receive(inbound("hi", event_id="E1", message_ref="M1"))
    retry = await engine.receive(inbound("hi", event_id="E1", message_ref="M1"))
    other_event_type = await engine.receive(inbound("hi", event_id="E2", message_ref="M1"))
    assert first.outcome is ReceiveOutcome.ACCEPTED
    assert retry.outcome is ReceiveOutcome.DUPLICATE
    assert other_event_type.outcome is ReceiveOutcome.DUPLICATE
    assert await store.inbox.depth() == 1


async def test_messages_during_a_turn_are_answered_next_in_order(store: Store) -> None:
    runner, port = RecordingRunner(gate=asyncio.Event()), DedupingPort()
    engine = await started(store, runner, port)
    try:
        first = await engine.receive(inbound("one"))
        await asyncio.wait_for(runner.started.wait(), 5)
        later = [await engine.receive(inbound(text)) for text in ("two", "three")]
        assert all(r.outcome is ReceiveOutcome.ACCEPTED for r in later)
        assert runner.gate is not None
        runner.gate.set()
        await settle(engine, first.inbox_id, *(r.inbox_id for r in later))
        assert runner.calls == [("one",), ("two", "three")]
        assert port.texts() == ["echo: one", "echo: two | three"]
    finally:
        await engine.stop()


async def test_conversations_run_in_parallel_up_to_the_worker_limit(store: Store) -> None:
    runner, port = RecordingRunner(gate=asyncio.Event()), DedupingPort()
    engine = await started(store, runner, port, worker_limit=2)
    try:
        ids = [(await engine.receive(inbound("hi", channel=f"C{n}"))).inbox_id for n in range(3)]
        await asyncio.wait_for(runner.started.wait(), 5)
        await asyncio.sleep(0.3)
        assert len(runner.calls) == 2
        assert runner.gate is not None
        runner.gate.set()
        await settle(engine, *ids)
        assert sorted(r.channel for r in port.posted) == ["C0", "C1", "C2"]
    finally:
        await engine.stop()


async def test_failed_turn_is_retried_then_answered_once(store: Store) -> None:
    runner, port = RecordingRunner(fail=2), DedupingPort()
    engine = await started(store, runner, port)
    try:
        result = await engine.receive(inbound("flaky"))
        await settle(engine, result.inbox_id)
        assert len(runner.calls) == 3
        assert port.texts() == ["echo: flaky"]
        item = await store.inbox.get(result.inbox_id)
        assert item is not None
        assert item.status is InboxStatus.DONE
        assert item.attempts == 3
    finally:
        await engine.stop()


async def test_turn_failing_every_attempt_is_marked_failed_and_user_told_once(
    store: Store,
) -> None:
    runner, port = RecordingRunner(fail=100), DedupingPort()
    settings = replace(FAST, max_attempts=3)
    engine = await started(store, runner, port, settings=settings)
    try:
        result = await engine.receive(inbound("poison"))
        nxt = await engine.receive(inbound("next one"))
        await settle(engine, result.inbox_id)
        item = await store.inbox.get(result.inbox_id)
        assert item is not None
        assert item.status is InboxStatus.FAILED
        assert "the model exploded" in item.error
        assert port.texts().count(FAILED_REPLY) == 1
        assert item.inbound.text == "poison"  # kept for the operator
        assert nxt.outcome is ReceiveOutcome.ACCEPTED
        # The message stays in recall, once, even though no turn answered it.
        recall = await store.messages.recent(item.inbound.conversation, 0, 10)
        assert [m.content for m in recall if m.id == item.id] == ["poison"]
        [failed] = [r for r in port.posted if r.text == FAILED_REPLY]
        assert (failed.id, failed.inbox_id) == (f"{item.id}.r0", item.id)
    finally:
        await engine.stop()


async def test_journaled_turn_is_applied_without_running_again(store: Store) -> None:
    """A crash after the model answered: the journal is applied, the turn never re-run."""
    runner, port = RecordingRunner(), DedupingPort()
    engine = Engine(store, runner, platforms=[port], settings=FAST)
    result = await engine.receive(inbound("answered before the crash"))
    item = await store.inbox.get(result.inbox_id)
    assert item is not None
    reply = Outbound(
        id=f"{item.id}.r0",
        inbox_id=item.id,
        platform="test",
        agent_id=item.inbound.agent_id,
        workspace=item.inbound.workspace,
        channel=item.inbound.channel,
        thread="",
        text="the journaled answer",
    )
    await store.journal.record(JournalEntry(item.id, (item.id,), TurnOutcome.DONE, (), (reply,)))
    await engine.start()
    try:
        await settle(engine, item.id)
        assert runner.calls == []
        assert port.texts() == ["the journaled answer"]
        assert await store.journal.find(item.id) is None
    finally:
        await engine.stop()


async def test_listen_only_message_is_remembered_without_a_reply(store: Store) -> None:
    runner, port = RecordingRunner(), DedupingPort()
    engine = await started(store, runner, port)
    try:
        result = await engine.receive(inbound("just chatting", respond=False))
        await settle(engine, result.inbox_id)
        assert runner.calls == [("just chatting",)]
        assert port.posted == []
        assert port.working_for == []
        item = await store.inbox.get(result.inbox_id)
        assert item is not None
        assert item.status is InboxStatus.DONE
        # The pipeline stored the turn's user message in recall, and had it indexed.
        stored = await store.messages.recent(item.inbound.conversation, 0, 10)
        assert [(m.id, m.content) for m in stored] == [(item.id, "just chatting")]
        assert runner.indexed == [item.id]
    finally:
        await engine.stop()


async def test_two_engines_sharing_a_store_answer_each_message_once(store: Store) -> None:
    port = DedupingPort()
    busy: set[str] = set()
    overlaps: list[str] = []

    class SerialCheck(RecordingRunner):
        async def run(self, items, agent=None):  # type: ignore[no-untyped-def]
            key = items[0].conversation
            if key in busy:
                overlaps.append(key)
            busy.add(key)
            try:
                await asyncio.sleep(0.005)
                return await super().run(items, agent)
            finally:
                busy.discard(key)

    engines = [await started(store, SerialCheck(), port) for _ in range(2)]
    try:
        ids = []
        for n in range(40):
            receiver = engines[n % 2]
            ids.append((await receiver.receive(inbound(f"m{n}", channel=f"C{n % 5}"))).inbox_id)
        await settle(engines[0], *ids)
        answered = sorted(int(t.split("m")[-1]) for r in port.posted for t in r.text.split(" | "))
        assert answered == list(range(40))
        assert overlaps == []
        for channel in range(5):
            texts = [
                t for r in port.posted if r.channel == f"C{channel}" for t in r.text.split(" | ")
            ]
            numbers = [int(t.split("m")[-1]) for t in texts]
            assert numbers == sorted(numbers)
    finally:
        for engine in engines:
            await engine.stop()


async def test_conversation_of_a_crashed_process_is_taken_over_when_its_lease_expires(
    store: Store,
) -> None:
    runner, port = RecordingRunner(), DedupingPort()
    engine = Engine(store, runner, platforms=[port], settings=FAST)
    result = await engine.receive(inbound("orphaned"))
    item = await store.inbox.get(result.inbox_id)
    assert item is not None
    assert await store.leases.acquire(lease_name(item.conversation), "crashed-process", 0.6)
    await engine.start()
    try:
        await asyncio.sleep(0.3)
        assert runner.calls == []
        await settle(engine, result.inbox_id)
        assert port.texts() == ["echo: orphaned"]
        # The crashed holder may have been running the turn: its attempt counts.
        answered = await store.inbox.get(result.inbox_id)
        assert answered is not None
        assert answered.attempts == 2
    finally:
        await engine.stop()


async def test_a_message_received_by_a_process_refused_the_lease_is_served_by_its_holder(
    store: Store,
) -> None:
    """No poll finds it (they are an hour apart): the refusal noted on the lease does."""
    slow_poll = replace(FAST, poll_interval=3600.0)
    runner, port = RecordingRunner(gate=asyncio.Event()), DedupingPort()
    holder = await started(store, runner, port, settings=slow_poll)
    try:
        first = await holder.receive(inbound("one"))
        await asyncio.wait_for(runner.started.wait(), 5)
        # Started once the holder runs the turn, so its first inbox read cannot take "one".
        other = await started(store, RecordingRunner(), DedupingPort(), settings=slow_poll)
        try:
            second = await other.receive(inbound("two"))
            assert second.outcome is ReceiveOutcome.ACCEPTED
            async with asyncio.timeout(10):  # the other engine was refused the lease
                while other.waiting_conversations or other.running_turns:  # noqa: ASYNC110
                    await asyncio.sleep(0.01)
            assert runner.gate is not None
            runner.gate.set()
            await settle(holder, first.inbox_id, second.inbox_id)
            assert runner.calls == [("one",), ("two",)]
        finally:
            await other.stop()
    finally:
        await holder.stop()


async def test_stop_cancels_a_running_turn_and_releases_its_lease(store: Store) -> None:
    runner, port = RecordingRunner(gate=asyncio.Event()), DedupingPort()
    engine = await started(store, runner, port)
    result = await engine.receive(inbound("slow"))
    await asyncio.wait_for(runner.started.wait(), 5)
    await asyncio.wait_for(engine.stop(), 5)
    item = await store.inbox.get(result.inbox_id)
    assert item is not None
    assert item.status is InboxStatus.PENDING
    assert await store.leases.acquire(lease_name(item.conversation), "next-process", 5)
    await store.leases.release(lease_name(item.conversation), "next-process")

    successor = await started(store, RecordingRunner(), port)
    try:
        await settle(successor, result.inbox_id)
        assert port.texts() == ["echo: slow"]
    finally:
        await successor.stop()


async def test_edits_and_deletions_change_recall_without_a_turn(store: Store) -> None:
    runner, port = RecordingRunner(), DedupingPort()
    engine = await started(store, runner, port)
    try:
        original = await engine.receive(inbound("typo here", message_ref="M9"))
        await settle(engine, original.inbox_id)
        edit = replace(
            inbound("fixed here", message_ref="M9", event_id="E-edit"), kind=InboundKind.EDIT
        )
        assert (await engine.receive(edit)).outcome is ReceiveOutcome.ACCEPTED
        audience = Audience("test:W1", AudienceKind.PUBLIC, "C1")
        where = RecordFilter("agent-1", "test:W1", audience.readable_scopes, channel="C1")
        texts = [m.content for m in await store.messages.list(where, 10)]
        assert "fixed here" in texts
        assert "typo here" not in texts
        assert len(runner.calls) == 1
    finally:
        await engine.stop()


def _fields(settings: PipelineSettings) -> dict[str, object]:
    return {name: getattr(settings, name) for name in settings.__dataclass_fields__}


async def test_turn_whose_lease_is_lost_is_abandoned_and_answered_once(store: Store) -> None:
    runner, port = RecordingRunner(gate=asyncio.Event()), DedupingPort()
    engine = await started(store, runner, port)
    try:
        result = await engine.receive(inbound("long turn"))
        await asyncio.wait_for(runner.started.wait(), 5)
        item = await store.inbox.get(result.inbox_id)
        assert item is not None
        # Another process took over (as if ours had expired): renewal fails, the turn stops.
        await store.leases.release(lease_name(item.conversation), engine.holder)
        assert await store.leases.acquire(lease_name(item.conversation), "other", 0.5)
        await asyncio.sleep(FAST.lease_ttl / 3 + 0.3)
        assert runner.gate is not None
        runner.gate.set()
        await settle(engine, result.inbox_id)
        assert len(runner.calls) == 2
        assert port.texts() == ["echo: long turn"]
    finally:
        await engine.stop()


async def test_replicas_with_different_platforms_each_deliver_only_their_own(
    store: Store,
) -> None:
    slack, discord = DedupingPort(platform="slack"), DedupingPort(platform="discord")
    engines = [
        await started(store, RecordingRunner(), slack),
        await started(store, RecordingRunner(), discord),
    ]
    try:
        # Each process receives messages of both platforms, so every turn's reply has to
        # travel to the process that serves its platform, promptly and untouched.
        ids = []
        for n in range(12):
            platform = "slack" if n % 2 else "discord"
            receiver = engines[n % 3 % 2]
            message = inbound(f"m{n}", channel=f"C{n}", platform=platform)
            ids.append((await receiver.receive(message)).inbox_id)
        async with asyncio.timeout(10):
            for inbox_id in ids:
                await engines[0].wait_settled(inbox_id)
        assert sorted(r.channel for r in slack.posted) == sorted(f"C{n}" for n in range(1, 12, 2))
        assert sorted(r.channel for r in discord.posted) == sorted(f"C{n}" for n in range(0, 12, 2))
        assert slack.attempts == 6
        assert discord.attempts == 6
        for inbox_id in ids:
            entries = await store.outbox.for_inbox(inbox_id)
            assert [e.attempts for e in entries] == [0]
    finally:
        for engine in engines:
            await engine.stop()
