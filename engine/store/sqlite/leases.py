"""Leases with expiry: one holder at a time across every process sharing the file."""

from __future__ import annotations

import sqlite3
import time

from engine.store.sqlite._database import Database


class SQLiteLeaseStore:
    """Expiry uses the wall clock, the only clock processes on one machine share."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def acquire(self, name: str, holder: str, ttl: float) -> bool:
        def acquire(conn: sqlite3.Connection) -> int:
            now = time.time()
            return int(
                conn.execute(
                    "INSERT INTO leases (name, holder, expires) VALUES (?, ?, ?) "
                    "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, "
                    "expires = excluded.expires "
                    "WHERE leases.holder = excluded.holder OR leases.expires <= ?",
                    (name, holder, now + ttl, now),
                ).rowcount
            )

        return await self._db.run(acquire) > 0

    async def renew(self, name: str, holder: str, ttl: float) -> bool:
        renewed = await self._db.execute(
            "UPDATE leases SET expires = ? WHERE name = ? AND holder = ?",
            (time.time() + ttl, name, holder),
        )
        return renewed > 0

    async def release(self, name: str, holder: str) -> None:
        await self._db.execute("DELETE FROM leases WHERE name = ? AND holder = ?", (name, holder))
