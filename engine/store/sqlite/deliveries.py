"""Delivery ledgers: the platform messages each reply was posted as."""

from __future__ import annotations

from datetime import datetime

from engine.store.sqlite._columns import Columns
from engine.store.sqlite._database import Database
from engine.store.sqlite._table import RecordTable
from engine.store.sqlite._time import to_micros
from engine.store.state import DeliveryLedger


class SQLiteDeliveryLedgers(RecordTable[DeliveryLedger]):
    def __init__(self, db: Database) -> None:
        super().__init__(db, "delivery_ledger", Columns(DeliveryLedger), key="reply_id")

    async def get(self, reply_id: str) -> DeliveryLedger | None:
        return await self.fetch(reply_id)

    async def put(self, ledger: DeliveryLedger) -> None:
        await self.add(ledger, replace=True)

    async def prune(self, before: datetime) -> int:
        return await self.delete_where("created_at < ?", (to_micros(before),))
