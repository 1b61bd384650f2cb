"""The durable inbox: accepted platform events, deduplicated, taken per conversation in order."""

from __future__ import annotations

import json

from engine.records import JSON, utcnow
from engine.store.codec import encode_datetime
from engine.store.protocol import InboxItem, InboxStatus
from engine.store.sqlite._columns import Columns
from engine.store.sqlite._database import Database
from engine.store.sqlite._table import RecordTable
from engine.store.sqlite._time import from_micros, to_micros


class SQLiteInboxStore(RecordTable[InboxItem]):
    def __init__(self, db: Database) -> None:
        super().__init__(db, "inbox", Columns(InboxItem))

    async def put(self, item: InboxItem) -> bool:
        inbound = item.inbound
        # The inbound's keys again as columns, for the unique indexes that dedupe events.
        keys = {
            "platform": inbound.platform,
            "agent_id": inbound.agent_id,
            "event_id": inbound.event_id,
            "channel": inbound.channel,
            "message_ref": inbound.message_ref,
            "kind": inbound.kind.value,
        }
        return await self.add(item, keys)

    async def pending_conversations(self, limit: int) -> list[str]:
        rows = await self._db.run(
            lambda c: c.execute(
                "SELECT conversation FROM inbox WHERE status = 'pending' "
                "GROUP BY conversation ORDER BY min(seq) LIMIT ?",
                (limit,),
            ).fetchall()
        )
        return [conversation for (conversation,) in rows]

    async def pending(self, conversation: str, limit: int) -> list[InboxItem]:
        return await self.fetch_all(
            "conversation = ? AND status = 'pending'",
            (conversation, limit),
            "ORDER BY seq, pos LIMIT ?",
        )

    async def mark(self, item_id: str, status: InboxStatus, error: str = "") -> None:
        await self._db.run(
            lambda c: c.execute(
                "UPDATE inbox SET status = ?, error = ? WHERE id = ?",
                (status.value, error, item_id),
            )
        )

    async def record_attempt(self, item_id: str) -> int:
        row = await self._db.run(
            lambda c: c.execute(
                "UPDATE inbox SET attempts = attempts + 1 WHERE id = ? RETURNING attempts",
                (item_id,),
            ).fetchone()
        )
        return 0 if row is None else int(row[0])

    async def get(self, item_id: str) -> InboxItem | None:
        return await self.fetch(item_id)

    async def depth(self) -> int:
        depth: int = await self._db.run(
            lambda c: c.execute("SELECT count(*) FROM inbox WHERE status = 'pending'").fetchone()[0]
        )
        return depth

    async def put_rejected(self, platform: str, raw: JSON, error: str) -> None:
        params = (platform, json.dumps(raw, default=str), error, to_micros(utcnow()))
        await self._db.run(
            lambda c: c.execute(
                "INSERT INTO inbox_rejected (platform, raw, error, received_at) "
                "VALUES (?, ?, ?, ?)",
                params,
            )
        )

    async def redact_user(self, workspace: str, user: str) -> list[str]:
        sql = (
            "UPDATE inbox SET inbound = json_set(inbound, '$.text', '', "
            "'$.attachments', json('[]')) WHERE status != 'pending' "
            "AND json_extract(inbound, '$.audience.workspace') = ? "
            "AND (json_extract(inbound, '$.author.id') = ? "
            "OR (json_extract(inbound, '$.audience.kind') = 'dm' "
            "AND json_extract(inbound, '$.audience.user') = ?)) RETURNING id"
        )
        rows = await self._db.run(lambda c: c.execute(sql, (workspace, user, user)).fetchall())
        return [item_id for (item_id,) in rows]

    async def rejected(self, limit: int) -> list[JSON]:
        """Newest first: ``platform``, ``raw``, ``error`` and ``received_at`` (ISO 8601)."""
        rows = await self._db.run(
            lambda c: c.execute(
                "SELECT platform, raw, error, received_at FROM inbox_rejected "
                "ORDER BY pos DESC LIMIT ?",
                (limit,),
            ).fetchall()
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
