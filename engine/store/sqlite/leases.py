"""Leases with expiry: one holder at a time across every process sharing the file."""

from __future__ import annotations

import sqlite3
import time

from engine.store.queues import LeaseGrant
from engine.store.sqlite._database import Database, write


class SQLiteLeaseStore:
    """Expiry uses the wall clock, the only clock processes on one machine share."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def acquire(self, name: str, holder: str, ttl: float) -> bool:
        return await self.take(name, holder, ttl) is not LeaseGrant.REFUSED

    async def take(self, name: str, holder: str, ttl: float) -> LeaseGrant:
        def take(conn: sqlite3.Connection) -> LeaseGrant:
            now = time.time()
            with write(conn):
                row = conn.execute(
                    "SELECT holder, expires FROM leases WHERE name = ?", (name,)
                ).fetchone()
                if row is not None and row[0] != holder and row[1] > now:
                    conn.execute("UPDATE leases SET wanted = 1 WHERE name = ?", (name,))
                    return LeaseGrant.REFUSED
                conn.execute(
                    "INSERT INTO leases (name, holder, expires, wanted) VALUES (?, ?, ?, 0) "
                    "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, "
                    "expires = excluded.expires, wanted = 0",
                    (name, holder, now + ttl),
                )
            return LeaseGrant.FREE if row is None or row[0] == holder else LeaseGrant.TAKEN_OVER

        return await self._db.run(take)

    async def renew(self, name: str, holder: str, ttl: float) -> bool:
        renewed = await self._db.execute(
            "UPDATE leases SET expires = ? WHERE name = ? AND holder = ?",
            (time.time() + ttl, name, holder),
        )
        return renewed > 0

    async def release(self, name: str, holder: str) -> bool:
        def release(conn: sqlite3.Connection) -> bool:
            with write(conn):
                rows = conn.execute(
                    "DELETE FROM leases WHERE name = ? AND holder = ? RETURNING wanted",
                    (name, holder),
                ).fetchall()
            return bool(rows and rows[0][0])

        return await self._db.run(release)
