"""Bad input through ``Engine.receive`` on both stores: a clear outcome, nothing lost."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from engine.audience import Scope
from engine.core import Engine
from engine.pipeline import Backoff, PipelineSettings
from engine.ports import ReceiveOutcome
from engine.records import Block, new_id
from engine.store.protocol import Store
from tests.e2e.pipeline_doubles import DedupingPort, RecordingRunner, inbound, open_test_store

FAST = PipelineSettings(poll_interval=0.05, lease_ttl=1.0, turn_retry=Backoff(0.01, 0.05))


@pytest.fixture(params=["sqlite", "mongo"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    async with open_test_store(request.param, tmp_path) as opened:
        yield opened


@pytest.fixture
async def engine(store: Store) -> AsyncIterator[tuple[Engine, DedupingPort]]:
    port = DedupingPort()
    running = Engine(store, RecordingRunner(), platforms=[port], settings=FAST)
    await running.start()
    try:
        yield running, port
    finally:
        await running.stop()


async def answered(engine: Engine, inbox_id: str) -> None:
    async with asyncio.timeout(20):
        await engine.wait_settled(inbox_id)


async def test_empty_message_is_refused_with_a_reason(
    engine: tuple[Engine, DedupingPort], store: Store
) -> None:
    result = await engine[0].receive(inbound("  "))
    assert result.outcome is ReceiveOutcome.REJECTED
    assert result.reason == "the message is empty: there is nothing to answer"
    assert await store.inbox.depth() == 0


async def test_100_kb_message_is_kept_truncated_and_answered(
    engine: tuple[Engine, DedupingPort], store: Store
) -> None:
    result = await engine[0].receive(inbound("x" * 150_000))
    assert result.outcome is ReceiveOutcome.ACCEPTED
    assert result.reason == "text truncated"
    await answered(engine[0], result.inbox_id)
    item = await store.inbox.get(result.inbox_id)
    assert item is not None
    assert item.inbound.text.endswith("bytes over the 100 KB limit]")
    assert len(engine[1].posted) == 1


async def test_invalid_unicode_is_repaired_stored_and_answered(
    engine: tuple[Engine, DedupingPort], store: Store
) -> None:
    result = await engine[0].receive(inbound("broken \udc00 text"))
    assert result.outcome is ReceiveOutcome.ACCEPTED
    await answered(engine[0], result.inbox_id)
    item = await store.inbox.get(result.inbox_id)
    assert item is not None
    assert item.inbound.text == "broken \ufffd text"
    assert engine[1].texts() == ["echo: broken \ufffd text"]


async def test_unknown_user_in_unknown_channel_is_answered(
    engine: tuple[Engine, DedupingPort],
) -> None:
    stranger = inbound("who are you?", user=f"U-{new_id()}", channel=f"C-{new_id()}")
    result = await engine[0].receive(stranger)
    assert result.outcome is ReceiveOutcome.ACCEPTED
    await answered(engine[0], result.inbox_id)
    assert engine[1].texts() == ["echo: who are you?"]


async def test_message_for_an_unknown_agent_is_refused_and_kept_for_the_operator(
    engine: tuple[Engine, DedupingPort], store: Store
) -> None:
    result = await engine[0].receive(replace(inbound("hello?"), agent_id="nobody"))
    assert result.outcome is ReceiveOutcome.REJECTED
    assert result.reason == "there is no agent with id 'nobody'"
    [kept] = await store.inbox.rejected(10)
    assert kept["error"] == result.reason
    assert kept["raw"]["text"] == "hello?"


async def test_unparseable_event_is_kept_with_its_error(
    engine: tuple[Engine, DedupingPort], store: Store
) -> None:
    raw = {"type": "event_callback", "event": {"type": "message", "ts": None}}
    await engine[0].reject("slack", raw, "message event without a timestamp")
    [kept] = await store.inbox.rejected(10)
    assert kept["platform"] == "slack"
    assert kept["raw"] == raw
    assert kept["error"] == "message event without a timestamp"


async def test_racing_block_writers_never_lose_an_update(store: Store) -> None:
    """Two turns (or a turn and a job) appending to one block through compare-and-set."""
    block = await store.blocks.create(
        Block(new_id(), "agent-1", "test:W1", "human", "U1", Scope.dm("U1"), "", 10_000)
    )

    async def append_lines(writer: str) -> None:
        for n in range(15):
            while True:
                current = await store.blocks.get(block.id)
                assert current is not None
                value = f"{current.value}{writer}{n}\n"
                if await store.blocks.update(block.id, current.version, value) is not None:
                    break

    await asyncio.gather(append_lines("a"), append_lines("b"))
    final = await store.blocks.get(block.id)
    assert final is not None
    lines = final.value.split()
    assert sorted(lines) == sorted([f"a{n}" for n in range(15)] + [f"b{n}" for n in range(15)])
    assert final.version == 31
