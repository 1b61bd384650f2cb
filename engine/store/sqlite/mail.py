"""Agent-to-agent messages; the answer handed to a waiting sender is set once."""

from __future__ import annotations

import sqlite3

from engine.audience import AudienceKind
from engine.store.sqlite._columns import Columns
from engine.store.sqlite._database import Database, write
from engine.store.state import MailRecord

RECORDS = Columns(MailRecord)
_COLUMNS = RECORDS.listed()
_SELECT = f"SELECT {_COLUMNS} FROM agent_mail WHERE id = ?"


class SQLiteMailStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def put(self, record: MailRecord) -> None:
        audience = record.audience
        dm_user = audience.user if audience.kind is AudienceKind.DM else None
        row = (*RECORDS.row(record), audience.workspace, dm_user)
        sql = (
            f"INSERT OR IGNORE INTO agent_mail ({_COLUMNS}, workspace, dm_user) "
            f"VALUES ({RECORDS.slots}, ?, ?)"
        )
        await self._db.run(lambda c: c.execute(sql, row))

    async def get(self, message_id: str) -> MailRecord | None:
        row = await self._db.run(lambda c: c.execute(_SELECT, (message_id,)).fetchone())
        return None if row is None else RECORDS.record(row)

    async def answer(self, message_id: str, reply_id: str) -> MailRecord | None:
        def answer(conn: sqlite3.Connection) -> MailRecord | None:
            with write(conn):
                conn.execute(
                    "UPDATE agent_mail SET answered_by = ? WHERE id = ? AND answered_by = ''",
                    (reply_id, message_id),
                )
                row = conn.execute(_SELECT, (message_id,)).fetchone()
            return None if row is None else RECORDS.record(row)

        return await self._db.run(answer)

    async def delete_user(self, workspace: str, user: str) -> int:
        deleted: int = await self._db.run(
            lambda c: (
                c.execute(
                    "DELETE FROM agent_mail WHERE workspace = ? AND dm_user = ?", (workspace, user)
                ).rowcount
            )
        )
        return deleted
