"""Racing writers on the MongoDB store: unique indexes and atomic updates pick one winner.

Each racer has its own client (its own connections), as two replicas would.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from engine.audience import Audience, AudienceKind, Scope
from engine.records import Author, Block, Inbound
from engine.store.mongo import MongoStore
from engine.store.queues import InboxItem, InboxStatus
from tests.fakes.mongo_wire import mongo_test_store, mongo_test_uri

RACERS = 4


@pytest.fixture
async def replicas() -> AsyncIterator[list[MongoStore]]:
    async with mongo_test_store() as first:
        name = first.database.name
        others = [await MongoStore.connect(mongo_test_uri(), name) for _ in range(RACERS - 1)]
        try:
            yield [first, *others]
        finally:
            for store in others:
                await store.close()


def _block(block_id: str) -> Block:
    return Block(
        id=block_id,
        owner="agent-1",
        workspace="T1",
        label="human",
        subject="alice",
        scope=Scope.dm("alice"),
        value=f"written by {block_id}",
        limit=200,
    )


async def test_racing_lease_takers_get_one_holder(replicas: list[MongoStore]) -> None:
    won = await asyncio.gather(
        *(
            store.leases.acquire("conversation-1", f"worker-{i}", 30)
            for i, store in enumerate(replicas)
        )
    )
    assert won.count(True) == 1


async def test_expired_lease_is_taken_over_once(replicas: list[MongoStore]) -> None:
    assert await replicas[0].leases.acquire("job", "crashed", 0.05)
    await asyncio.sleep(0.1)
    won = await asyncio.gather(
        *(store.leases.acquire("job", f"worker-{i}", 30) for i, store in enumerate(replicas[1:]))
    )
    assert won.count(True) == 1
    assert not await replicas[0].leases.renew("job", "crashed", 30)


async def test_racing_block_creators_agree_on_one_part(replicas: list[MongoStore]) -> None:
    created = await asyncio.gather(
        *(store.blocks.create(_block(f"b{i}")) for i, store in enumerate(replicas))
    )
    assert len({block.id for block in created}) == 1
    assert len(await replicas[0].blocks.list("agent-1")) == 1


async def test_racing_block_edits_let_exactly_one_win(replicas: list[MongoStore]) -> None:
    block = await replicas[0].blocks.create(_block("b0"))
    results = await asyncio.gather(
        *(
            store.blocks.update(block.id, block.version, f"edit {i}")
            for i, store in enumerate(replicas)
        )
    )
    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    stored = await replicas[0].blocks.get(block.id)
    assert stored == winners[0]
    assert stored.version == block.version + 1


async def test_one_message_delivered_twice_at_once_is_accepted_once(
    replicas: list[MongoStore],
) -> None:
    def item(i: int) -> InboxItem:
        inbound = Inbound(
            platform="slack",
            agent_id="agent-1",
            audience=Audience("T1", AudienceKind.PUBLIC, "C1"),
            thread="",
            author=Author("alice", "Alice"),
            text="hello",
            event_id=f"Ev{i}",  # app_mention and message: two events, one message
            message_ref="1700000000.000100",
            sent_at=datetime.now(UTC),
        )
        return InboxItem(f"item-{i}", inbound, "agent-1/T1/C1/", i, InboxStatus.PENDING)

    accepted = await asyncio.gather(*(store.inbox.put(item(i)) for i, store in enumerate(replicas)))
    assert accepted.count(True) == 1
    assert await replicas[0].inbox.depth() == 1
