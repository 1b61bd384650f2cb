"""Agent-to-agent messages; the answer handed to a waiting sender is set once."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from engine.audience import AudienceKind
from engine.store.lineage import batches
from engine.store.sqlite._columns import Columns
from engine.store.sqlite._database import Database, write
from engine.store.sqlite._filters import placeholders
from engine.store.sqlite._table import RecordTable
from engine.store.state import MailRecord


class SQLiteMailStore(RecordTable[MailRecord]):
    def __init__(self, db: Database) -> None:
        super().__init__(db, "agent_mail", Columns(MailRecord))

    async def put(self, record: MailRecord) -> None:
        audience = record.audience
        dm_user = audience.user if audience.kind is AudienceKind.DM else None
        await self.add(record, {"workspace": audience.workspace, "dm_user": dm_user})

    async def get(self, message_id: str) -> MailRecord | None:
        return await self.fetch(message_id)

    async def answer(self, message_id: str, reply_id: str) -> MailRecord | None:
        def answer(conn: sqlite3.Connection) -> MailRecord | None:
            with write(conn):
                conn.execute(
                    "UPDATE agent_mail SET answered_by = ? WHERE id = ? AND answered_by = ''",
                    (reply_id, message_id),
                )
                return self.fetch_on(conn, message_id)

        return await self._db.run(answer)

    async def delete_user(self, workspace: str, user: str) -> int:
        return await self.delete_where("workspace = ? AND dm_user = ?", (workspace, user))

    async def delete(self, message_ids: Sequence[str]) -> int:
        removed = 0
        for batch in batches(message_ids):
            removed += await self.delete_where(f"id IN ({placeholders(len(batch))})", batch)
        return removed
