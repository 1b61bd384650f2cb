"""The turn journal in ``turn_journal``: one outcome per batch, keyed by its head item."""

from __future__ import annotations

from collections.abc import Sequence

from pymongo.errors import DuplicateKeyError

from engine.store.codec import encode
from engine.store.mongo._documents import Collection, find_record
from engine.store.state import JournalEntry


class MongoTurnJournal:
    def __init__(self, collection: Collection) -> None:
        self._entries = collection

    @property
    def collection_name(self) -> str:
        return self._entries.name

    async def record(self, entry: JournalEntry) -> JournalEntry:
        try:
            await self._entries.insert_one({"_id": entry.head, **encode(entry)})
        except DuplicateKeyError:
            stored = await self.find(entry.head)
            if stored is None:  # forgotten in between: nothing counts any more but ours
                return await self.record(entry)
            return stored
        return entry

    async def find(self, head: str) -> JournalEntry | None:
        return await find_record(self._entries, JournalEntry, {"_id": head})

    async def forget(self, heads: Sequence[str]) -> None:
        if heads:
            await self._entries.delete_many({"_id": {"$in": list(heads)}})
