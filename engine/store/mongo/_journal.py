"""The turn journal: one outcome per batch, kept on the batch's first inbox item.

Kept there (field ``outcome``), the outcome is dropped by the same write that marks the item
closed. A head with no inbox item, and outcomes journalled by earlier versions, are kept in
``turn_journal``, keyed by the head; the batch read honours those too.
"""

from __future__ import annotations

from collections.abc import Sequence

from pymongo.errors import DuplicateKeyError

from engine.store.codec import decode, encode
from engine.store.mongo._documents import Collection, find_record
from engine.store.state import JournalEntry

#: The inbox item's field that holds the outcome journalled under it.
OUTCOME = "outcome"


class MongoTurnJournal:
    def __init__(self, items: Collection, entries: Collection) -> None:
        self._items = items
        self._entries = entries

    @property
    def collection_name(self) -> str:
        """The collection of outcomes kept apart from their items."""
        return self._entries.name

    async def record(self, entry: JournalEntry) -> JournalEntry:
        written = await self._items.update_one(
            {"_id": entry.head, OUTCOME: {"$exists": False}}, {"$set": {OUTCOME: encode(entry)}}
        )
        if written.matched_count:
            return entry
        item = await self._items.find_one({"_id": entry.head}, {OUTCOME: True})
        if item is None:
            return await self._record_apart(entry)
        if OUTCOME in item:
            return decode(JournalEntry, item[OUTCOME])
        return await self.record(entry)  # forgotten in between: nothing counts any more but ours

    async def _record_apart(self, entry: JournalEntry) -> JournalEntry:
        try:
            await self._entries.insert_one({"_id": entry.head, **encode(entry)})
        except DuplicateKeyError:
            stored = await find_record(self._entries, JournalEntry, {"_id": entry.head})
            if stored is None:  # forgotten in between: nothing counts any more but ours
                return await self._record_apart(entry)
            return stored
        return entry

    async def find(self, head: str) -> JournalEntry | None:
        item = await self._items.find_one(
            {"_id": head, OUTCOME: {"$exists": True}}, {OUTCOME: True}
        )
        if item is not None:
            return decode(JournalEntry, item[OUTCOME])
        return await find_record(self._entries, JournalEntry, {"_id": head})

    async def forget(self, heads: Sequence[str]) -> None:
        if heads:
            await self._items.update_many({"_id": {"$in": list(heads)}}, {"$unset": {OUTCOME: ""}})
            await self.forget_apart(heads)

    async def forget_apart(self, heads: Sequence[str]) -> None:
        """Drop the outcomes kept apart from their items (those of earlier versions)."""
        await self._entries.delete_many({"_id": {"$in": list(heads)}})
