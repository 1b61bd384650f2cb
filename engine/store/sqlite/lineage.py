"""The lineage index: the ``lineage`` table, looked up by its ``source`` index, and the links
written since its last bulk move, kept in ``lineage_recent``.

A derived record usually has many sources (a turn's reply shares words with much of its
window), each in its own place of the source index: written as they come, every turn would
rewrite one index page per source. Links are appended to ``lineage_recent`` instead (in record
order, no source index, a few pages a turn) and moved into ``lineage`` together once
``RECENT_LIMIT`` wait, when each page of the index takes many of them at once. Every lookup
reads both tables.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from engine.store.lineage import Derived, DerivedRecord, Link, batches
from engine.store.sqlite._database import Database, write
from engine.store.sqlite._filters import placeholders

#: Links waiting in ``lineage_recent`` that make the next write move them all into
#: ``lineage``: a few turns' worth. More would batch more links per index page, but the turn
#: that moves them would take that much longer (about 2 ms per thousand).
RECENT_LIMIT = 1024
_TABLES = ("lineage", "lineage_recent")
#: Records one link; recording it again changes nothing (one recorded again after its move
#: waits in both tables until the next move, which keeps one).
_INSERT_RECENT = "INSERT OR IGNORE INTO lineage_recent VALUES (?, ?, ?, ?)"
_MOVE = (
    "INSERT OR IGNORE INTO lineage SELECT kind, record_id, source, workspace "
    "FROM lineage_recent ORDER BY source",
    "DELETE FROM lineage_recent",
)


def link_rows(links: Sequence[Link]) -> list[tuple[str, str, str, str]]:
    return [(link.kind.value, link.record_id, link.source, link.workspace) for link in links]


def link_on(conn: sqlite3.Connection, links: Sequence[Link]) -> None:
    """Record ``links`` inside a write transaction already begun."""
    if not links:
        return
    conn.executemany(_INSERT_RECENT, link_rows(links))
    if conn.execute("SELECT count(*) FROM lineage_recent").fetchone()[0] >= RECENT_LIMIT:
        for sql in _MOVE:
            conn.execute(sql)


class SQLiteLineage:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def link(self, links: Sequence[Link]) -> None:
        if not links:
            return

        def insert(conn: sqlite3.Connection) -> None:
            with write(conn):
                link_on(conn, links)

        await self._db.run(insert)

    async def derived_from(self, sources: Sequence[str]) -> list[DerivedRecord]:
        def find(conn: sqlite3.Connection) -> set[tuple[str, str]]:
            found: set[tuple[str, str]] = set()
            for batch in batches(sorted(set(sources))):
                for table in _TABLES:
                    found.update(
                        conn.execute(
                            f"SELECT kind, record_id FROM {table} "
                            f"WHERE source IN ({placeholders(len(batch))})",
                            batch,
                        ).fetchall()
                    )
            return found

        found = await self._db.run(find)
        return [DerivedRecord(Derived(kind), record_id) for kind, record_id in sorted(found)]

    async def sources_of(self, kind: Derived, record_ids: Sequence[str]) -> dict[str, list[str]]:
        def find(conn: sqlite3.Connection) -> dict[str, list[str]]:
            found: dict[str, set[str]] = {}
            for batch in batches(sorted(set(record_ids))):
                for table in _TABLES:
                    rows = conn.execute(
                        f"SELECT record_id, source FROM {table} WHERE kind = ? "
                        f"AND record_id IN ({placeholders(len(batch))})",
                        (kind.value, *batch),
                    )
                    for record_id, source in rows:
                        found.setdefault(record_id, set()).add(source)
            return {record_id: sorted(found[record_id]) for record_id in sorted(found)}

        return await self._db.run(find)

    async def unlink_records(self, kind: Derived, record_ids: Sequence[str]) -> int:
        return await self._delete("kind = ? AND record_id", record_ids, (kind.value,))

    async def unlink_sources(self, sources: Sequence[str]) -> int:
        return await self._delete("source", sources)

    async def _delete(
        self, column: str, values: Sequence[str], params: Sequence[object] = ()
    ) -> int:
        def delete(conn: sqlite3.Connection) -> int:
            removed: set[tuple[str, str, str]] = set()
            with write(conn):
                for batch in batches(sorted(set(values))):
                    where = f"WHERE {column} IN ({placeholders(len(batch))})"
                    for table in _TABLES:
                        removed.update(
                            conn.execute(
                                f"DELETE FROM {table} {where} RETURNING kind, record_id, source",
                                (*params, *batch),
                            ).fetchall()
                        )
            return len(removed)

        return await self._db.run(delete)
