"""The turn journal: one outcome per batch, the first writer's."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from engine.store.sqlite._columns import Columns
from engine.store.sqlite._database import Database, write
from engine.store.state import JournalEntry

ENTRIES = Columns(JournalEntry)
_COLUMNS = ENTRIES.listed()


class SQLiteTurnJournal:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(self, entry: JournalEntry) -> JournalEntry:
        row = ENTRIES.row(entry)

        def record(conn: sqlite3.Connection) -> JournalEntry:
            with write(conn):
                conn.execute(
                    f"INSERT OR IGNORE INTO turn_journal ({_COLUMNS}) VALUES ({ENTRIES.slots})",
                    row,
                )
                stored = ENTRIES.fetch_one(conn, "turn_journal", "head", entry.head)
            assert stored is not None  # inserted or already there, inside this transaction
            return stored

        return await self._db.run(record)

    async def find(self, head: str) -> JournalEntry | None:
        return await self._db.run(lambda c: ENTRIES.fetch_one(c, "turn_journal", "head", head))

    async def forget(self, heads: Sequence[str]) -> None:
        rows = [(head,) for head in heads]
        if rows:
            await self._db.run(
                lambda c: c.executemany("DELETE FROM turn_journal WHERE head = ?", rows)
            )
