"""Where MongoDB keeps a turn's journalled outcome: on the batch's first inbox item, dropped by
the write that closes it; outcomes kept apart by earlier versions are still honoured."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from engine.store.codec import encode
from engine.store.mongo import MongoStore
from engine.store.queues import InboxStatus
from tests.contract.records import inbox_item
from tests.contract.test_turns import outcome
from tests.fakes.mongo_wire import mongo_test_store


@pytest.fixture
async def store() -> AsyncIterator[MongoStore]:
    async with mongo_test_store() as opened:
        yield opened


async def test_an_outcome_is_journalled_on_its_first_item_and_dropped_when_it_closes(
    store: MongoStore,
) -> None:
    item = inbox_item("E1")
    assert await store.inbox.put(item)
    answered = outcome(item.id, (item.id,), "the answer")
    assert await store.journal.record(answered) == answered
    stored = await store.database["inbox"].find_one({"_id": item.id})
    assert stored is not None
    assert "outcome" in stored
    assert await store.database["turn_journal"].count_documents({}) == 0

    await store.turns.apply(answered, journalled=True)
    closed = await store.database["inbox"].find_one({"_id": item.id})
    assert closed is not None
    assert (closed["status"], "outcome" in closed) == (InboxStatus.DONE.value, False)


async def test_an_outcome_kept_apart_by_an_earlier_version_is_applied_and_dropped(
    store: MongoStore,
) -> None:
    item = inbox_item("E1")
    assert await store.inbox.put(item)
    earlier = outcome(item.id, (item.id,), "journalled before the upgrade")
    await store.database["turn_journal"].insert_one({"_id": item.id, **encode(earlier)})

    batch = await store.turns.pending(item.conversation, 10)
    assert batch.journalled == earlier
    await store.turns.apply(earlier, journalled=True)
    assert await store.database["turn_journal"].count_documents({}) == 0
    assert [r.reply.text for r in await store.outbox.for_inbox(item.id)] == [
        "journalled before the upgrade"
    ]
