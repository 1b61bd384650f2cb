"""Delivery ledgers in ``delivery_ledger``, keyed by reply id."""

from __future__ import annotations

from datetime import datetime

from engine.store.codec import encode, encode_datetime
from engine.store.mongo._documents import Collection, find_record, replace_or_insert
from engine.store.state import DeliveryLedger


class MongoDeliveryLedgers:
    def __init__(self, collection: Collection) -> None:
        self._ledgers = collection

    async def get(self, reply_id: str) -> DeliveryLedger | None:
        return await find_record(self._ledgers, DeliveryLedger, {"_id": reply_id})

    async def put(self, ledger: DeliveryLedger) -> None:
        await replace_or_insert(self._ledgers, {"_id": ledger.reply_id}, encode(ledger))

    async def prune(self, before: datetime) -> int:
        result = await self._ledgers.delete_many({"created_at": {"$lt": encode_datetime(before)}})
        return result.deleted_count
