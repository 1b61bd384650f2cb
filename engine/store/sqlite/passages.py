"""Archival memory: passages with tags, FTS5 text search and in-process vector ranking."""

from __future__ import annotations

import builtins
import sqlite3
from collections.abc import Sequence
from dataclasses import replace

from engine.audience import Scope
from engine.records import Passage
from engine.store.protocol import RecordFilter
from engine.store.sqlite._columns import Columns
from engine.store.sqlite._database import Database, write
from engine.store.sqlite._embeddings import as_blob, take_revs
from engine.store.sqlite._filters import counted_scopes, placeholders
from engine.store.sqlite._queries import MemoryTable

#: The embedding is a BLOB beside the columns, read only by ``get`` and the vector index.
COLUMNS = Columns(Passage, left_out={"embedding"})
VECTOR_COLUMNS = (
    "pos, vec_rev, agent_id, workspace, scope, '', '', tags, users, created_at, embedding"
)
_INSERT = (
    f"INSERT OR IGNORE INTO passages ({COLUMNS.listed()}, embedding, vec_rev) "
    f"VALUES ({COLUMNS.slots}, ?, ?)"
)

_ABOUT_USER = (
    "workspace = ? AND (scope = ? OR EXISTS "
    "(SELECT 1 FROM json_each(passages.users) u WHERE u.value = ?))"
)


class SQLitePassageStore(MemoryTable[Passage]):
    def __init__(self, db: Database) -> None:
        super().__init__(db, "passages", COLUMNS, VECTOR_COLUMNS)

    async def insert(self, passages: Sequence[Passage]) -> None:
        if not passages:
            return
        rows = [
            (COLUMNS.row(p), None if p.embedding is None else as_blob(p.embedding))
            for p in passages
        ]

        def insert(conn: sqlite3.Connection) -> None:
            with write(conn):
                revs = iter(take_revs(conn, "passages", sum(blob is not None for _, blob in rows)))
                conn.executemany(
                    _INSERT,
                    [(*row, blob, None if blob is None else next(revs)) for row, blob in rows],
                )

        await self._db.run(insert)

    async def list(self, where: RecordFilter, limit: int, offset: int = 0) -> list[Passage]:
        return await self.listed(where, "p.created_at DESC, p.pos DESC", limit, offset)

    async def tag_counts(self, where: RecordFilter) -> dict[str, int]:
        return await self._db.run(lambda c: self.tag_counts_on(c, where))

    def tag_counts_on(self, conn: sqlite3.Connection, where: RecordFilter) -> dict[str, int]:
        """``tag_counts`` on the database's thread."""
        counted = counted_scopes(where)
        if counted is not None:
            condition, params = counted
            sql = (
                "SELECT tag, sum(n) AS total FROM record_counts WHERE kind = 'tags' "
                f"AND {condition} GROUP BY tag HAVING total > 0 ORDER BY total DESC, tag"
            )
        else:
            condition, params = self.visible(where)
            sql = (
                "SELECT t.value, count(DISTINCT p.pos) AS total "
                "FROM passages p, json_each(p.tags) t "
                f"WHERE {condition} GROUP BY t.value ORDER BY total DESC, t.value"
            )
        rows = conn.execute(sql, params).fetchall()
        return {str(tag): int(count) for tag, count in rows}

    async def get(self, passage_id: str) -> Passage | None:
        sql = f"SELECT {COLUMNS.listed()}, embedding FROM passages WHERE id = ?"
        row = await self._db.run(lambda c: c.execute(sql, (passage_id,)).fetchone())
        if row is None:
            return None
        embedding = row[-1]
        passage = COLUMNS.record(row)
        if embedding is None:
            return passage
        return replace(passage, embedding=tuple(memoryview(embedding).cast("f").tolist()))

    async def delete(self, passage_ids: Sequence[str]) -> int:
        if not passage_ids:
            return 0
        return await self.delete_where(
            f"id IN ({placeholders(len(passage_ids))})", list(passage_ids)
        )

    async def delete_user(self, workspace: str, user: str) -> int:
        return await self.delete_where(_ABOUT_USER, (workspace, str(Scope.dm(user)), user))

    async def ids_of_user(self, workspace: str, user: str) -> builtins.list[str]:
        rows = await self._db.query(
            f"SELECT id FROM passages WHERE {_ABOUT_USER}", (workspace, str(Scope.dm(user)), user)
        )
        return [row[0] for row in rows]
