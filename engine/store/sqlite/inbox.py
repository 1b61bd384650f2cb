"""The durable inbox: accepted platform events, deduplicated, taken per conversation in order."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence

from engine.records import JSON, utcnow
from engine.store.codec import encode_datetime
from engine.store.forget_marks import MarkedItem
from engine.store.inbox_keys import dedupe_keys
from engine.store.lineage import batches
from engine.store.queues import InboxItem, InboxStatus
from engine.store.sqlite._columns import Columns
from engine.store.sqlite._database import Database
from engine.store.sqlite._filters import placeholders
from engine.store.sqlite._table import RecordTable
from engine.store.sqlite._time import from_micros, to_micros

#: Blanks an item's words (its text and attachments); the item stays, so a retry is still known.
_REDACT = "UPDATE inbox SET inbound = json_set(inbound, '$.text', '', '$.attachments', json('[]'))"


_COLUMNS = Columns(InboxItem)
_PENDING = (
    f"SELECT {_COLUMNS.listed()} FROM inbox WHERE conversation = ? "
    "AND status = 'pending' ORDER BY seq, pos LIMIT ?"
)
_MARK = "UPDATE inbox SET status = ?, error = ?, attempts = max(attempts, ?) WHERE id = ?"


class SQLiteInboxStore(RecordTable[InboxItem]):
    def __init__(self, db: Database) -> None:
        super().__init__(db, "inbox", _COLUMNS)

    async def put(self, item: InboxItem) -> bool:
        return await self.add(item, dedupe_keys(item.inbound))

    async def pending_conversations(self, limit: int) -> list[str]:
        rows = await self._db.query(
            "SELECT conversation FROM inbox WHERE status = 'pending' "
            "GROUP BY conversation ORDER BY min(seq) LIMIT ?",
            (limit,),
        )
        return [conversation for (conversation,) in rows]

    async def pending(self, conversation: str, limit: int) -> list[InboxItem]:
        return await self._db.run(lambda c: self.pending_on(c, conversation, limit))

    def pending_on(
        self, conn: sqlite3.Connection, conversation: str, limit: int
    ) -> list[InboxItem]:
        """``pending`` on the database's thread."""
        rows = conn.execute(_PENDING, (conversation, limit)).fetchall()
        return [self.columns.record(row) for row in rows]

    async def mark(self, item_id: str, status: InboxStatus, error: str = "") -> None:
        await self._db.run(lambda c: self.mark_on(c, [item_id], status, error))

    def mark_on(
        self,
        conn: sqlite3.Connection,
        item_ids: Sequence[str],
        status: InboxStatus,
        error: str,
        attempt: int = 0,
    ) -> None:
        """Mark items on the database's thread, in the order given (the first with the
        ``attempt`` that closed them)."""
        rows = [(status.value, error, 0, item_id) for item_id in item_ids]
        if rows:
            rows[0] = (status.value, error, attempt, item_ids[0])
        conn.executemany(_MARK, rows)

    async def record_attempt(self, item_id: str) -> int:
        rows = await self._db.query(
            "UPDATE inbox SET attempts = attempts + 1 WHERE id = ? RETURNING attempts", (item_id,)
        )
        return int(rows[0][0]) if rows else 0

    async def record_failure(self, item_id: str, error: str) -> None:
        await self._db.execute(
            "UPDATE inbox SET attempts = attempts + 1, error = ? WHERE id = ?", (error, item_id)
        )

    async def get(self, item_id: str) -> InboxItem | None:
        return await self.fetch(item_id)

    async def depth(self) -> int:
        [(depth,)] = await self._db.query("SELECT count(*) FROM inbox WHERE status = 'pending'")
        return int(depth)

    async def put_rejected(self, platform: str, raw: JSON, error: str) -> None:
        await self._db.execute(
            "INSERT INTO inbox_rejected (platform, raw, error, received_at) VALUES (?, ?, ?, ?)",
            (platform, json.dumps(raw, default=str), error, to_micros(utcnow())),
        )

    async def redact_user(self, workspace: str, user: str) -> list[str]:
        rows = await self._db.query(
            f"{_REDACT} WHERE status != 'pending' "
            "AND json_extract(inbound, '$.audience.workspace') = ? "
            "AND (json_extract(inbound, '$.author.id') = ? "
            "OR (json_extract(inbound, '$.audience.kind') = 'dm' "
            "AND json_extract(inbound, '$.audience.user') = ?)) RETURNING id",
            (workspace, user, user),
        )
        return [item_id for (item_id,) in rows]

    async def forget_rejected(self, user: str) -> int:
        return await self._db.execute(
            "DELETE FROM inbox_rejected WHERE instr(raw, ?) > 0", (json.dumps(user),)
        )

    async def redact(self, item_ids: Sequence[str]) -> list[str]:
        redacted: list[str] = []
        for batch in batches(item_ids):
            rows = await self._db.query(
                f"{_REDACT} WHERE status != 'pending' "
                f"AND id IN ({placeholders(len(batch))}) RETURNING id",
                batch,
            )
            redacted += [item_id for (item_id,) in rows]
        return redacted

    async def mark_forgotten(self, workspace: str, mark: str) -> int:
        return await self._db.execute(
            "INSERT OR IGNORE INTO inbox_forget_marks (item_id, mark) "
            "SELECT id, ? FROM inbox WHERE status = 'pending' "
            "AND json_extract(inbound, '$.audience.workspace') = ?",
            (mark, workspace),
        )

    async def marked(self, limit: int) -> list[MarkedItem]:
        rows = await self._db.query(
            "SELECT m.item_id, json_group_array(m.mark) FROM inbox_forget_marks AS m "
            "JOIN inbox ON inbox.id = m.item_id WHERE inbox.status != 'pending' "
            "GROUP BY m.item_id ORDER BY min(inbox.pos) LIMIT ?",
            (limit,),
        )
        return [MarkedItem(item_id, tuple(json.loads(marks))) for item_id, marks in rows]

    def marks_on(self, conn: sqlite3.Connection, item_ids: Sequence[str]) -> tuple[str, ...]:
        """The forget marks these items carry, on the database's thread."""
        rows = conn.execute(
            "SELECT DISTINCT mark FROM inbox_forget_marks "
            f"WHERE item_id IN ({placeholders(len(item_ids))}) ORDER BY mark",
            list(item_ids),
        ).fetchall()
        return tuple(mark for (mark,) in rows)

    async def clear_marks(self, item_ids: Sequence[str]) -> None:
        for batch in batches(item_ids):
            await self._db.execute(
                f"DELETE FROM inbox_forget_marks WHERE item_id IN ({placeholders(len(batch))})",
                batch,
            )

    async def rejected(self, limit: int) -> list[JSON]:
        """Newest first: ``platform``, ``raw``, ``error`` and ``received_at`` (ISO 8601)."""
        rows = await self._db.query(
            "SELECT platform, raw, error, received_at FROM inbox_rejected "
            "ORDER BY pos DESC LIMIT ?",
            (limit,),
        )
        return [
            {
                "platform": platform,
                "raw": json.loads(raw),
                "error": error,
                "received_at": encode_datetime(from_micros(received_at)),
            }
            for platform, raw, error, received_at in rows
        ]
