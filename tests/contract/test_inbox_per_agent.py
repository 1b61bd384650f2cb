"""Inbox dedupe is per agent: one message that mentions two agents is one item for each.

The contract runs on both stores; the upgrade tests start from the keys earlier versions wrote
(without the agent) and check that setup replaces them without losing a stored item.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from pathlib import Path

import pytest
from pymongo import ASCENDING, IndexModel

from engine.records import InboundKind
from engine.store.codec import encode
from engine.store.protocol import Store
from tests.contract.conftest import upgraded_sqlite
from tests.contract.records import inbox_item

OTHER_AGENT = "agent-2"


async def test_one_message_mentioning_two_agents_reaches_each_agent_once(store: Store) -> None:
    # Slack delivers the mention as an app_mention and as a message: two event ids, one ref.
    assert await store.inbox.put(inbox_item("Ev1", message_ref="171.1"))
    assert await store.inbox.put(inbox_item("Ev1", message_ref="171.1", agent=OTHER_AGENT))
    assert not await store.inbox.put(inbox_item("Ev2", message_ref="171.1"))
    assert not await store.inbox.put(inbox_item("Ev2", message_ref="171.1", agent=OTHER_AGENT))
    assert not await store.inbox.put(inbox_item("Ev1", message_ref="", agent=OTHER_AGENT))
    assert await store.inbox.depth() == 2


async def test_an_edit_for_two_agents_is_one_item_each(store: Store) -> None:
    for agent in ("agent-1", OTHER_AGENT):
        assert await store.inbox.put(
            inbox_item("Ev9", message_ref="171.1", kind=InboundKind.EDIT, agent=agent)
        )
        assert not await store.inbox.put(
            inbox_item("Ev9", message_ref="171.1", kind=InboundKind.EDIT, agent=agent)
        )
    assert await store.inbox.depth() == 2


_EARLIER_SQLITE_INBOX = """
CREATE TABLE inbox (
    pos INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    platform TEXT NOT NULL,
    event_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    message_ref TEXT NOT NULL,
    kind TEXT NOT NULL,
    conversation TEXT NOT NULL,
    seq INTEGER NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    error TEXT NOT NULL,
    inbound TEXT NOT NULL
);
CREATE UNIQUE INDEX inbox_event ON inbox (platform, event_id);
CREATE UNIQUE INDEX inbox_message
    ON inbox (platform, channel, message_ref, kind) WHERE message_ref != '';
"""


async def test_sqlite_file_from_before_gets_per_agent_dedupe(tmp_path: Path) -> None:
    earlier = inbox_item("Ev1", message_ref="171.1")
    path = tmp_path / "mnemo.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.executescript(_EARLIER_SQLITE_INBOX)
        conn.execute(
            "INSERT INTO inbox (id, platform, event_id, channel, message_ref, kind, "
            "conversation, seq, status, attempts, error, inbound) "
            "VALUES (?, 'slack', 'Ev1', ?, '171.1', 'message', ?, ?, 'pending', 0, '', ?)",
            (
                earlier.id,
                earlier.inbound.channel,
                earlier.conversation,
                earlier.seq,
                json.dumps(encode(earlier.inbound)),
            ),
        )
    conn.close()
    store = await upgraded_sqlite(path)
    try:
        assert await store.inbox.get(earlier.id) == earlier
        assert not await store.inbox.put(inbox_item("Ev2", message_ref="171.1"))
        assert await store.inbox.put(inbox_item("Ev1", message_ref="171.1", agent=OTHER_AGENT))
        assert await store.inbox.depth() == 2
    finally:
        await store.close()


async def test_mongo_database_from_before_gets_per_agent_dedupe() -> None:
    mongo_wire = pytest.importorskip(
        "tests.fakes.mongo_wire", reason="the MongoDB test server is not available"
    )
    from engine.store.mongo import MongoStore

    name = f"test_{uuid.uuid4().hex[:12]}"
    store = await MongoStore.connect(mongo_wire.mongo_test_uri(), name)
    try:
        inbox = store.database["inbox"]
        await inbox.create_indexes(
            [
                IndexModel(
                    [("platform", ASCENDING), ("event_id", ASCENDING)],
                    name="event_identity",
                    unique=True,
                ),
                IndexModel(
                    [
                        ("platform", ASCENDING),
                        ("channel", ASCENDING),
                        ("message_ref", ASCENDING),
                        ("kind", ASCENDING),
                    ],
                    name="message_identity",
                    unique=True,
                ),
            ]
        )
        assert await store.inbox.put(inbox_item("Ev1", message_ref="171.1"))
        await inbox.update_many({}, {"$unset": {"agent_id": ""}})  # as earlier versions wrote
        await store.setup()
        await store.setup()

        names = {index["name"] async for index in await inbox.list_indexes()}
        assert not names & {"event_identity", "message_identity"}
        assert not await store.inbox.put(inbox_item("Ev2", message_ref="171.1"))
        assert await store.inbox.put(inbox_item("Ev1", message_ref="171.1", agent=OTHER_AGENT))
        assert await store.inbox.depth() == 2
    finally:
        await store.database.client.drop_database(name)
        await store.close()
