"""Archival memory: passages with tags, FTS5 text search and in-process vector ranking."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

from engine.audience import Scope
from engine.records import Passage
from engine.store.protocol import RecordFilter, Scored
from engine.store.sqlite._database import Database, write
from engine.store.sqlite._embeddings import as_blob, take_revs
from engine.store.sqlite._filters import counted_scopes, placeholders, where_visible
from engine.store.sqlite._fts import ranked_rows
from engine.store.sqlite._time import from_micros, to_micros
from engine.store.sqlite._vectors import VectorIndex, nearest

_COLUMNS = "p.id, p.agent_id, p.workspace, p.scope, p.text, p.tags, p.users, p.created_at"
_WITH_EMBEDDING = f"{_COLUMNS}, p.embedding"
VECTOR_COLUMNS = (
    "pos, vec_rev, agent_id, workspace, scope, '', '', tags, users, created_at, embedding"
)


def _passage(row: Sequence[Any], embedding: bytes | None = None) -> Passage:
    return Passage(
        id=row[0],
        agent_id=row[1],
        workspace=row[2],
        scope=Scope.parse(row[3]),
        text=row[4],
        tags=tuple(json.loads(row[5])),
        users=tuple(json.loads(row[6])),
        created_at=from_micros(row[7]),
        embedding=None if embedding is None else tuple(memoryview(embedding).cast("f").tolist()),
    )


class SQLitePassageStore:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._vectors = VectorIndex("passages", VECTOR_COLUMNS)

    async def insert(self, passages: Sequence[Passage]) -> None:
        if not passages:
            return
        rows = [
            (
                p.id,
                p.agent_id,
                p.workspace,
                str(p.scope),
                p.text,
                json.dumps(list(p.tags)),
                json.dumps(list(p.users)),
                to_micros(p.created_at),
                None if p.embedding is None else as_blob(p.embedding),
            )
            for p in passages
        ]

        def insert(conn: sqlite3.Connection) -> None:
            with write(conn):
                revs = iter(take_revs(conn, "passages", sum(r[8] is not None for r in rows)))
                conn.executemany(
                    "INSERT OR IGNORE INTO passages (id, agent_id, workspace, scope, text, "
                    "tags, users, created_at, embedding, vec_rev) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [(*row, None if row[8] is None else next(revs)) for row in rows],
                )

        await self._db.run(insert)

    async def search_vector(
        self, where: RecordFilter, vector: Sequence[float], limit: int
    ) -> list[Scored[Passage]]:
        condition, params = where_visible(where, "passages", "p")

        def rows(conn: sqlite3.Connection, positions: list[int]) -> dict[int, Passage]:
            # NOT INDEXED: lacking statistics, the planner would rather scan the agent's rows
            # by index than look up these few rowids.
            found = conn.execute(
                f"SELECT p.pos, {_COLUMNS} FROM passages p NOT INDEXED "
                f"WHERE p.pos IN ({placeholders(len(positions))}) AND {condition}",
                positions + params,
            ).fetchall()
            return {row[0]: _passage(row[1:]) for row in found}

        return await nearest(self._db, self._vectors, where, vector, limit, rows)

    async def search_text(
        self, where: RecordFilter, query: str, limit: int
    ) -> list[Scored[Passage]]:
        condition, params = where_visible(where, "passages", "p")
        rows = await self._db.run(
            lambda c: ranked_rows(
                c,
                fts="passages_fts",
                table="passages",
                alias="p",
                columns=_COLUMNS,
                condition=condition,
                params=params,
                query=query,
                limit=limit,
            )
        )
        return [Scored(_passage(row), -float(row[8])) for row in rows]

    async def list(self, where: RecordFilter, limit: int, offset: int = 0) -> list[Passage]:
        condition, params = where_visible(where, "passages", "p")
        sql = (
            f"SELECT {_COLUMNS} FROM passages p WHERE {condition} "
            "ORDER BY p.created_at DESC, p.pos DESC LIMIT ? OFFSET ?"
        )
        rows = await self._db.run(lambda c: c.execute(sql, [*params, limit, offset]).fetchall())
        return [_passage(row) for row in rows]

    async def count(self, where: RecordFilter) -> int:
        counted = counted_scopes(where)
        if counted is not None:
            condition, params = counted
            sql = (
                "SELECT coalesce(sum(n), 0) FROM record_counts "
                f"WHERE kind = 'passages' AND tag = '' AND {condition}"
            )
        else:
            condition, params = where_visible(where, "passages", "p")
            sql = f"SELECT count(*) FROM passages p WHERE {condition}"
        count: int = await self._db.run(lambda c: c.execute(sql, params).fetchone()[0])
        return count

    async def tag_counts(self, where: RecordFilter) -> dict[str, int]:
        counted = counted_scopes(where)
        if counted is not None:
            condition, params = counted
            sql = (
                "SELECT tag, sum(n) AS total FROM record_counts WHERE kind = 'tags' "
                f"AND {condition} GROUP BY tag HAVING total > 0 ORDER BY total DESC, tag"
            )
        else:
            condition, params = where_visible(where, "passages", "p")
            sql = (
                "SELECT t.value, count(DISTINCT p.pos) AS total "
                "FROM passages p, json_each(p.tags) t "
                f"WHERE {condition} GROUP BY t.value ORDER BY total DESC, t.value"
            )
        rows = await self._db.run(lambda c: c.execute(sql, params).fetchall())
        return {str(tag): int(count) for tag, count in rows}

    async def get(self, passage_id: str) -> Passage | None:
        row = await self._db.run(
            lambda c: c.execute(
                f"SELECT {_WITH_EMBEDDING} FROM passages p WHERE p.id = ?", (passage_id,)
            ).fetchone()
        )
        return None if row is None else _passage(row, row[8])

    async def delete(self, passage_ids: Sequence[str]) -> int:
        if not passage_ids:
            return 0
        ids = list(passage_ids)
        return await self._db.run(
            lambda c: (
                c.execute(
                    f"DELETE FROM passages WHERE id IN ({placeholders(len(ids))})", ids
                ).rowcount
            )
        )

    async def delete_user(self, workspace: str, user: str) -> int:
        return await self._db.run(
            lambda c: (
                c.execute(
                    "DELETE FROM passages WHERE workspace = ? AND (scope = ? OR EXISTS "
                    "(SELECT 1 FROM json_each(passages.users) u WHERE u.value = ?))",
                    (workspace, str(Scope.dm(user)), user),
                ).rowcount
            )
        )
