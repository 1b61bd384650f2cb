"""The outbox: replies kept until the platform has them, retried on a schedule."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from datetime import datetime

from engine.records import Outbound
from engine.store.queues import DeliveryClaim, OutboxEntry, OutboxStatus
from engine.store.sqlite._columns import Columns
from engine.store.sqlite._database import Database, write
from engine.store.sqlite._filters import placeholders
from engine.store.sqlite._table import RecordTable
from engine.store.sqlite._time import to_micros

#: The reply's keys and time again as columns, for its unique index and ``due``, and its claim.
_REPLY_COLUMNS = ("id", "inbox_id", "idx", "created_at", "claimed_by", "claimed_until")


class SQLiteOutboxStore(RecordTable[OutboxEntry]):
    def __init__(self, db: Database) -> None:
        super().__init__(db, "outbox", Columns(OutboxEntry))
        self._insert = self.insert_sql(_REPLY_COLUMNS)

    async def put(self, replies: Sequence[Outbound], claim: DeliveryClaim | None = None) -> None:
        if not replies:
            return

        def put(conn: sqlite3.Connection) -> None:
            with write(conn):
                self.put_on(conn, replies, claim)

        await self._db.run(put)

    def put_on(
        self,
        conn: sqlite3.Connection,
        replies: Sequence[Outbound],
        claim: DeliveryClaim | None = None,
    ) -> None:
        """``put`` inside a write transaction already begun."""
        holder, until = ("", 0.0) if claim is None else (claim.holder, time.time() + claim.ttl)
        rows = [
            (
                *self.columns.row(OutboxEntry(r, OutboxStatus.PENDING)),
                r.id,
                r.inbox_id,
                r.index,
                to_micros(r.created_at),
                holder,
                until,
            )
            for r in replies
        ]
        conn.executemany(self._insert, rows)

    async def for_inbox(self, inbox_id: str) -> list[OutboxEntry]:
        return await self.fetch_all("inbox_id = ?", (inbox_id,), "ORDER BY idx")

    async def due(self, now: datetime, limit: int) -> list[OutboxEntry]:
        return await self.fetch_all(
            "status = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= ?)",
            (to_micros(now), limit),
            "ORDER BY created_at, pos LIMIT ?",
        )

    async def claim(self, reply_id: str, holder: str, ttl: float) -> OutboxEntry | None:
        claim = (
            "UPDATE outbox SET claimed_by = ?, claimed_until = ? WHERE id = ? "
            "AND status = 'pending' AND (claimed_by = ? OR claimed_until <= ?) "
            f"RETURNING {self.selected}"
        )
        settled = f"SELECT {self.selected} FROM outbox WHERE id = ? AND status != 'pending'"

        def take(conn: sqlite3.Connection) -> OutboxEntry | None:
            now = time.time()
            row = conn.execute(claim, (holder, now + ttl, reply_id, holder, now)).fetchone()
            if row is None:
                row = conn.execute(settled, (reply_id,)).fetchone()
            return None if row is None else self.columns.record(row)

        return await self._db.run(take)

    async def release(self, reply_id: str, holder: str) -> None:
        await self._db.execute(
            "UPDATE outbox SET claimed_by = '', claimed_until = 0 WHERE id = ? AND claimed_by = ?",
            (reply_id, holder),
        )

    async def mark_delivered(self, reply_id: str, platform_ref: str) -> None:
        await self._db.execute(
            "UPDATE outbox SET status = 'delivered', platform_ref = ?, error = '' WHERE id = ?",
            (platform_ref, reply_id),
        )

    async def redact(self, inbox_ids: Sequence[str]) -> int:
        if not inbox_ids:
            return 0
        return await self._db.execute(
            "UPDATE outbox SET reply = json_set(reply, '$.text', '') WHERE status = 'delivered' "
            f"AND inbox_id IN ({placeholders(len(inbox_ids))})",
            inbox_ids,
        )

    async def retry_later(self, reply_id: str, at: datetime, error: str) -> None:
        await self._db.execute(
            "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, error = ?, "
            "claimed_by = '', claimed_until = 0 WHERE id = ? AND status = 'pending'",
            (to_micros(at), error, reply_id),
        )

    async def mark_undeliverable(self, reply_id: str, error: str) -> None:
        await self._db.execute(
            "UPDATE outbox SET status = 'undeliverable', attempts = attempts + 1, error = ? "
            "WHERE id = ? AND status = 'pending'",
            (error, reply_id),
        )
