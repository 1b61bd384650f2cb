"""Forgets redone after a turn they landed in: each kind of mark removes again what that turn
may have stored from what was forgotten, on both stores."""

from __future__ import annotations

from engine.records import Passage
from engine.store.forget_marks import ForgetMark, MarkKind
from engine.store.lineage import Derived, links
from engine.store.protocol import Store
from engine.user_data import UserDataService
from tests.contract.records import PUBLIC, WS, message, passage


async def written_by_the_turn(store: Store, source: str) -> Passage:
    """A passage the turn wrote from ``source``, linked when the turn was applied."""
    note = passage("copied by the turn")
    await store.passages.insert([note])
    await store.lineage.link(links(Derived.PASSAGE, note.id, [source], WS))
    return note


async def test_a_forgotten_memory_is_forgotten_again_with_what_the_turn_built_on_it(
    store: Store,
) -> None:
    forgotten = passage("the memory that was forgotten")
    note = await written_by_the_turn(store, forgotten.id)
    mark = ForgetMark(MarkKind.RECORD, WS, Derived.PASSAGE, forgotten.id)

    await UserDataService(store).redo_forgets([mark.encode()])

    assert await store.passages.get(note.id) is None


async def test_a_deleted_message_the_turn_stored_is_deleted_again(store: Store) -> None:
    said = message("deleted on the platform", platform_ref="M-1")
    other = message("still here", platform_ref="M-2")
    await store.messages.append([said, other])
    note = await written_by_the_turn(store, said.id)
    mark = ForgetMark(MarkKind.MESSAGE, WS, PUBLIC.channel, "M-1")

    await UserDataService(store).redo_forgets([mark.encode()])

    assert await store.messages.by_ids([said.id, other.id]) == [other]
    assert await store.passages.get(note.id) is None
