"""Outbox delivery through a platform that fails: outages delay replies, never lose or repeat
them; permanent refusals are kept with their error; a post the platform already has (crash
between its answer and our mark) is not repeated."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from engine.core import Engine
from engine.pipeline import Backoff, PipelineContext, PipelineSettings, ReplyDelivery
from engine.records import Outbound, utcnow
from engine.store.protocol import Store
from engine.store.queues import OutboxStatus
from tests.e2e.pipeline_doubles import DedupingPort, RecordingRunner, inbound, open_test_store

FAST = PipelineSettings(
    poll_interval=0.05,
    lease_ttl=1.0,
    turn_retry=Backoff(base=0.01, ceiling=0.05),
    delivery_retry=Backoff(base=0.02, ceiling=0.1),
    stop_deadline=0.5,
)


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 20.0) -> None:
    for _ in range(int(within / 0.02)):
        if await check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"not true after {within} s")


@pytest.fixture(params=["sqlite", "mongo"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    async with open_test_store(request.param, tmp_path) as opened:
        yield opened


async def test_platform_outage_delays_replies_in_order_without_loss_or_repeats(
    store: Store,
) -> None:
    port = DedupingPort(outage=4)
    engine = Engine(store, RecordingRunner(), platforms=[port], settings=FAST)
    await engine.start()
    try:
        ids = [(await engine.receive(inbound(f"m{n}"))).inbox_id for n in range(3)]
        async with asyncio.timeout(20):
            for inbox_id in ids:
                await engine.wait_settled(inbox_id)
        texts = [t for text in port.texts() for t in text.removeprefix("echo: ").split(" | ")]
        assert texts == ["m0", "m1", "m2"]
        assert port.attempts > len(port.posted)
    finally:
        await engine.stop()


async def test_retry_after_from_the_platform_is_honoured(store: Store) -> None:
    port = DedupingPort(outage=1, retry_after=0.6)
    engine = Engine(store, RecordingRunner(), platforms=[port], settings=FAST)
    await engine.start()
    try:
        result = await engine.receive(inbound("rate limited"))
        loop = asyncio.get_running_loop()
        started = loop.time()
        async with asyncio.timeout(20):
            await engine.wait_settled(result.inbox_id)
        assert loop.time() - started >= 0.5
        [entry] = await store.outbox.for_inbox(result.inbox_id)
        assert entry.status is OutboxStatus.DELIVERED
        assert entry.attempts == 1
    finally:
        await engine.stop()


async def test_permanent_refusal_is_recorded_and_not_retried(store: Store) -> None:
    port = DedupingPort(outage=100, permanent=True)
    engine = Engine(store, RecordingRunner(), platforms=[port], settings=FAST)
    await engine.start()
    try:
        result = await engine.receive(inbound("to a deleted channel"))
        async with asyncio.timeout(20):
            await engine.wait_settled(result.inbox_id)
        await asyncio.sleep(0.3)
        assert port.attempts == 1
        [entry] = await store.outbox.for_inbox(result.inbox_id)
        assert entry.status is OutboxStatus.UNDELIVERABLE
        assert entry.error.startswith("permanent: platform down")
        assert entry.attempts == 1
        assert await store.outbox.due(utcnow() + timedelta(days=365 * 100), 10) == []
    finally:
        await engine.stop()


async def test_reply_posted_before_a_crash_is_not_posted_twice(store: Store) -> None:
    """The platform has the post but the outbox was never marked: redelivery is deduped by id."""
    port = DedupingPort()
    reply = Outbound(
        id="inbox-1.r0",
        inbox_id="inbox-1",
        platform="test",
        agent_id="agent-1",
        workspace="test:W1",
        channel="C1",
        thread="",
        text="already posted",
    )
    await port.deliver(reply)
    await store.outbox.put([reply])
    engine = Engine(store, RecordingRunner(), platforms=[port], settings=FAST)
    await engine.start()
    try:

        async def marked() -> bool:
            [entry] = await store.outbox.for_inbox("inbox-1")
            return entry.status is OutboxStatus.DELIVERED

        await eventually(marked)
        assert port.texts() == ["already posted"]
        assert port.attempts == 2
    finally:
        await engine.stop()


async def test_replies_wait_for_their_platform_adapter(store: Store) -> None:
    engine = Engine(store, RecordingRunner(), settings=FAST)
    await engine.start()
    try:
        result = await engine.receive(inbound("hello", platform="late"))
        await asyncio.sleep(0.3)
        [entry] = await store.outbox.for_inbox(result.inbox_id)
        assert entry.status is OutboxStatus.PENDING
        port = DedupingPort(platform="late")
        engine.register_platform(port)
        async with asyncio.timeout(10):
            await engine.wait_settled(result.inbox_id)
        assert port.texts() == ["echo: hello"]
    finally:
        await engine.stop()


async def test_two_processes_never_post_one_reply_twice(store: Store) -> None:
    port = DedupingPort()
    calls: list[str] = []
    original = port.deliver

    async def counting(reply: Outbound) -> str:
        calls.append(reply.id)
        await asyncio.sleep(0.01)
        return await original(reply)

    port.deliver = counting  # type: ignore[method-assign]
    replies = [
        Outbound(
            id=f"inbox-{n}.r0",
            inbox_id=f"inbox-{n}",
            platform="test",
            agent_id="agent-1",
            workspace="test:W1",
            channel=f"C{n}",
            thread="",
            text=f"reply {n}",
        )
        for n in range(10)
    ]
    await store.outbox.put(replies)
    settings = replace(FAST, delivery_limit=4)
    engines = [
        Engine(store, RecordingRunner(), platforms=[port], settings=settings) for _ in range(2)
    ]
    for engine in engines:
        await engine.start()
    try:

        async def all_posted() -> bool:
            return len(port.posted) == 10

        await eventually(all_posted)
        await asyncio.sleep(0.2)
        assert sorted(calls) == sorted(r.id for r in replies)
    finally:
        for engine in engines:
            await engine.stop()


async def test_replies_written_claimed_and_left_undelivered_are_given_back(store: Store) -> None:
    """A worker delivers its turn's replies on the claim they were written with; when the
    platform fails the first, the second's claim is given back for any process's sweep."""
    port = DedupingPort(outage=1)
    pipeline = PipelineContext(store, {port.platform: port}, "worker-a", FAST, utcnow)
    delivery = ReplyDelivery(pipeline, lambda reply: None)
    replies = [
        Outbound(
            id=f"in-1.r{n}",
            inbox_id="in-1",
            platform=port.platform,
            agent_id="agent-1",
            workspace="test:W1",
            channel="C1",
            thread="",
            text=f"part {n}",
            index=n,
        )
        for n in (0, 1)
    ]
    claim = delivery.claim_for(replies)
    assert claim is not None
    await store.outbox.put(replies, claim)
    assert await store.outbox.claim(replies[1].id, "worker-b", 30) is None  # claimed at writing

    with delivery.reserved(replies):
        assert not await delivery.deliver_in_order(replies, claimed=True)
    assert port.posted == []
    assert await store.outbox.claim(replies[1].id, "worker-b", 30) is not None
    [first] = [e for e in await store.outbox.for_inbox("in-1") if e.reply.id == replies[0].id]
    assert (first.attempts, first.status) == (1, OutboxStatus.PENDING)
