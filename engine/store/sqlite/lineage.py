"""The lineage index in the ``lineage`` table, looked up by its ``source`` index."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from engine.store.lineage import Derived, DerivedRecord, Link, batches
from engine.store.sqlite._database import Database, write
from engine.store.sqlite._filters import placeholders

#: Records one link; recording it again changes nothing.
INSERT_LINK = "INSERT OR IGNORE INTO lineage VALUES (?, ?, ?, ?)"


def link_rows(links: Sequence[Link]) -> list[tuple[str, str, str, str]]:
    return [(link.kind.value, link.record_id, link.source, link.workspace) for link in links]


class SQLiteLineage:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def link(self, links: Sequence[Link]) -> None:
        if not links:
            return
        rows = link_rows(links)

        def insert(conn: sqlite3.Connection) -> None:
            with write(conn):
                conn.executemany(INSERT_LINK, rows)

        await self._db.run(insert)

    async def derived_from(self, sources: Sequence[str]) -> list[DerivedRecord]:
        def find(conn: sqlite3.Connection) -> set[tuple[str, str]]:
            found: set[tuple[str, str]] = set()
            for batch in batches(sorted(set(sources))):
                found.update(
                    conn.execute(
                        "SELECT kind, record_id FROM lineage "
                        f"WHERE source IN ({placeholders(len(batch))})",
                        batch,
                    ).fetchall()
                )
            return found

        found = await self._db.run(find)
        return [DerivedRecord(Derived(kind), record_id) for kind, record_id in sorted(found)]

    async def sources_of(self, kind: Derived, record_ids: Sequence[str]) -> dict[str, list[str]]:
        def find(conn: sqlite3.Connection) -> dict[str, list[str]]:
            found: dict[str, list[str]] = {}
            for batch in batches(sorted(set(record_ids))):
                rows = conn.execute(
                    "SELECT record_id, source FROM lineage WHERE kind = ? "
                    f"AND record_id IN ({placeholders(len(batch))}) ORDER BY record_id, source",
                    (kind.value, *batch),
                )
                for record_id, source in rows:
                    found.setdefault(record_id, []).append(source)
            return found

        return await self._db.run(find)

    async def unlink_records(self, kind: Derived, record_ids: Sequence[str]) -> int:
        return await self._delete("kind = ? AND record_id", record_ids, (kind.value,))

    async def unlink_sources(self, sources: Sequence[str]) -> int:
        return await self._delete("source", sources)

    async def _delete(
        self, column: str, values: Sequence[str], params: Sequence[object] = ()
    ) -> int:
        def delete(conn: sqlite3.Connection) -> int:
            removed = 0
            with write(conn):
                for batch in batches(sorted(set(values))):
                    removed += conn.execute(
                        f"DELETE FROM lineage WHERE {column} IN ({placeholders(len(batch))})",
                        (*params, *batch),
                    ).rowcount
            return removed

        return await self._db.run(delete)
