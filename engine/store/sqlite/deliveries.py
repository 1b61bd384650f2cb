"""Delivery ledgers: the platform messages each reply was posted as."""

from __future__ import annotations

from datetime import datetime

from engine.store.sqlite._columns import Columns
from engine.store.sqlite._database import Database
from engine.store.sqlite._time import to_micros
from engine.store.state import DeliveryLedger

LEDGERS = Columns(DeliveryLedger)
_COLUMNS = LEDGERS.listed()


class SQLiteDeliveryLedgers:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, reply_id: str) -> DeliveryLedger | None:
        return await self._db.run(
            lambda c: LEDGERS.fetch_one(c, "delivery_ledger", "reply_id", reply_id)
        )

    async def put(self, ledger: DeliveryLedger) -> None:
        row = LEDGERS.row(ledger)
        await self._db.run(
            lambda c: c.execute(
                f"INSERT OR REPLACE INTO delivery_ledger ({_COLUMNS}) VALUES ({LEDGERS.slots})",
                row,
            )
        )

    async def prune(self, before: datetime) -> int:
        dropped: int = await self._db.run(
            lambda c: (
                c.execute(
                    "DELETE FROM delivery_ledger WHERE created_at < ?", (to_micros(before),)
                ).rowcount
            )
        )
        return dropped
