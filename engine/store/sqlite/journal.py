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
                stored = conn.execute(
                    f"SELECT {_COLUMNS} FROM turn_journal WHERE head = ?", (entry.head,)
                ).fetchone()
            return ENTRIES.record(stored)

        return await self._db.run(record)

    async def find(self, head: str) -> JournalEntry | None:
        row = await self._db.run(
            lambda c: c.execute(
                f"SELECT {_COLUMNS} FROM turn_journal WHERE head = ?", (head,)
            ).fetchone()
        )
        return None if row is None else ENTRIES.record(row)

    async def forget(self, heads: Sequence[str]) -> None:
        rows = [(head,) for head in heads]
        if rows:
            await self._db.run(
                lambda c: c.executemany("DELETE FROM turn_journal WHERE head = ?", rows)
            )
