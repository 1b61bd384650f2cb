"""SQLite only: a conversation window read again shows every edit, deletion and new message.

The store keeps messages it decoded for the next window; what another handle on the same file
(another process) changes in between must show all the same.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from engine.store.sqlite import SQLiteStore
from engine.store.sqlite.messages import DecodedMessages, SQLiteMessageStore
from tests.contract.records import DM_ALICE, message


@pytest.fixture
async def stores(tmp_path: Path) -> AsyncIterator[tuple[SQLiteStore, SQLiteStore]]:
    first, second = SQLiteStore(tmp_path / "w.sqlite3"), SQLiteStore(tmp_path / "w.sqlite3")
    await first.setup()
    await second.setup()
    yield first, second
    await first.close()
    await second.close()


async def test_a_window_read_again_shows_changes_made_through_another_handle(
    stores: tuple[SQLiteStore, SQLiteStore],
) -> None:
    reader, writer = stores
    one = message("one", DM_ALICE, platform_ref="171.1")
    two = message("two", DM_ALICE, platform_ref="171.2")
    await writer.messages.append([one, two])
    conversation = one.conversation
    assert await reader.messages.recent(conversation, 0, 10) == [one, two]

    three = message("three", DM_ALICE)
    await writer.messages.append([three])
    await writer.messages.set_embeddings([(three.id, [1.0, 0.0])])
    assert [m.content for m in await reader.messages.recent(conversation, 0, 10)] == [
        "one",
        "two",
        "three",
    ]

    await writer.messages.edit(DM_ALICE.workspace, DM_ALICE.channel, "171.2", "two, fixed")
    assert [m.content for m in await reader.messages.recent(conversation, 0, 10)] == [
        "one",
        "two, fixed",
        "three",
    ]

    await writer.messages.delete_ref(DM_ALICE.workspace, DM_ALICE.channel, "171.1")
    assert [m.content for m in await reader.messages.recent(conversation, 0, 2)] == [
        "two, fixed",
        "three",
    ]
    assert [m.content for m in await reader.messages.recent(conversation, 0, 10)] == [
        "two, fixed",
        "three",
    ]


async def test_a_long_window_is_read_whole(stores: tuple[SQLiteStore, SQLiteStore]) -> None:
    store, _ = stores
    messages = [message(f"m{i}", DM_ALICE) for i in range(1_200)]
    await store.messages.append(messages)
    assert await store.messages.recent(messages[0].conversation, 0, 1_100) == messages[100:]


async def test_windows_stay_whole_when_few_messages_are_kept(
    stores: tuple[SQLiteStore, SQLiteStore],
) -> None:
    store, _ = stores
    recall = store.messages
    assert isinstance(recall, SQLiteMessageStore)
    recall._decoded = DecodedMessages(limit=3, chars=12)
    messages = [message(f"message {i}", DM_ALICE) for i in range(8)]
    await store.messages.append(messages)
    for _ in range(2):
        assert await store.messages.recent(messages[0].conversation, 0, 5) == messages[3:]
