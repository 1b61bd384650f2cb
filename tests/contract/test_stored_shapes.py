"""Records written by earlier versions, missing what later versions added, still read back.

Each store is given a message as an earlier version stored it: SQLite with no tool calls as a
NULL column, MongoDB as a document without the fields added since (tool calls, platform
reference, turn). Both read it back with those fields at their defaults.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

from engine.records import Message
from engine.store.codec import encode
from engine.store.protocol import Store
from engine.store.sqlite import SQLiteStore
from tests.contract.records import PUBLIC, message, visible_to

_ADDED_LATER = ("tool_calls", "platform_ref", "turn_id")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


async def _store_as_before(store: Store, earlier: Message) -> None:
    if isinstance(store, SQLiteStore):
        with sqlite3.connect(store.path) as conn:
            conn.execute(
                "INSERT INTO messages (id, agent_id, workspace, channel, thread, scope, role, "
                "author, author_name, content, seq, created_at, tool_calls, tool_call_id, "
                "platform_ref, turn_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, '', '', '')",
                (
                    earlier.id,
                    earlier.agent_id,
                    earlier.workspace,
                    earlier.channel,
                    earlier.thread,
                    str(earlier.scope),
                    earlier.role.value,
                    earlier.author,
                    earlier.author_name,
                    earlier.content,
                    earlier.seq,
                    (earlier.created_at - _EPOCH) // timedelta(microseconds=1),
                ),
            )
        conn.close()
        return
    from engine.store.mongo import MongoStore

    assert isinstance(store, MongoStore)
    doc = encode(earlier)
    doc["_id"] = doc.pop("id")
    for name in _ADDED_LATER:
        del doc[name]
    await store.database["messages"].insert_one(doc)


async def test_a_message_stored_by_an_earlier_version_reads_with_defaults(store: Store) -> None:
    earlier = message("stored long ago", PUBLIC)
    await _store_as_before(store, earlier)

    (read,) = await store.messages.list(visible_to(PUBLIC), limit=5)
    assert read == earlier
    assert (read.tool_calls, read.platform_ref, read.turn_id) == ((), "", "")
    assert await store.messages.between(earlier.conversation, 0, earlier.seq) == [earlier]
