"""The turn journal: one outcome per batch, the first writer's."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from engine.store.sqlite._columns import Columns
from engine.store.sqlite._database import Database, write
from engine.store.sqlite._table import RecordTable
from engine.store.state import JournalEntry


class SQLiteTurnJournal(RecordTable[JournalEntry]):
    def __init__(self, db: Database) -> None:
        super().__init__(db, "turn_journal", Columns(JournalEntry), key="head")

    async def record(self, entry: JournalEntry) -> JournalEntry:
        sql, row = self.insert_sql(), self.columns.row(entry)

        def record(conn: sqlite3.Connection) -> JournalEntry:
            with write(conn):
                conn.execute(sql, row)
                stored = self.fetch_on(conn, entry.head)
            assert stored is not None  # inserted or already there, inside this transaction
            return stored

        return await self._db.run(record)

    async def find(self, head: str) -> JournalEntry | None:
        return await self.fetch(head)

    async def forget(self, heads: Sequence[str]) -> None:
        if heads:
            await self._db.run(lambda c: self.forget_on(c, heads))

    def forget_on(self, conn: sqlite3.Connection, heads: Sequence[str]) -> None:
        """``forget`` on the database's thread."""
        conn.executemany("DELETE FROM turn_journal WHERE head = ?", [(head,) for head in heads])
