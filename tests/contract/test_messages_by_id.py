"""Messages looked up by id: what citations read to say who said a remembered thing, and where."""

from __future__ import annotations

from engine.store.protocol import Store
from tests.contract.records import DM_ALICE, PUBLIC, message


async def test_messages_are_found_by_id_whatever_their_audience(store: Store) -> None:
    said = message("tea at four", PUBLIC, author="alice", platform_ref="1700.1")
    told = message("my pin is 1234", DM_ALICE, author="alice")
    await store.messages.append([said, told])
    found = {m.id: m for m in await store.messages.by_ids([told.id, said.id, "absent", said.id])}
    assert found == {said.id: said, told.id: told}
    assert await store.messages.by_ids([]) == []


async def test_many_ids_are_looked_up_in_batches(store: Store) -> None:
    stored = [message(f"note {i}", PUBLIC) for i in range(1_200)]
    await store.messages.append(stored)
    found = await store.messages.by_ids([m.id for m in stored])
    assert sorted(m.id for m in found) == sorted(m.id for m in stored)
