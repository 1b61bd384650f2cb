"""The reads recall and archival memory share: filtered lists, counts, text and vector search.

Both tables keep their records under the same visibility columns (agent, workspace, scope,
time), a ``pos`` rowid, an FTS5 index and embeddings; only the table, its columns and its
order differ, so one ``MemoryTable`` answers for either.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Literal

from engine.store.protocol import RecordFilter, Scored
from engine.store.sqlite._ann import GraphSettings
from engine.store.sqlite._columns import Columns
from engine.store.sqlite._database import Database, write
from engine.store.sqlite._embeddings import as_blob, take_revs
from engine.store.sqlite._filters import Params, counted_scopes, placeholders, where_visible
from engine.store.sqlite._fts import TermCounts, ranked_rows, text_plan
from engine.store.sqlite._table import RecordTable
from engine.store.sqlite._vectors import VectorIndex, nearest

type Kind = Literal["messages", "passages"]


class MemoryTable[T](RecordTable[T]):
    """One memory table (``messages`` or ``passages``) read through ``RecordFilter``s.

    The message and passage stores are memory tables with their own writes and reads added.
    """

    def __init__(self, db: Database, table: Kind, columns: Columns[T], vector_columns: str) -> None:
        #: Every condition names the table by its initial.
        super().__init__(db, table, columns, alias=table[0])
        self._kind: Kind = table
        graphs = GraphSettings(folder=db.path.with_name(f"{db.path.name}.graphs"))
        self._vectors = VectorIndex(table, vector_columns, graphs=graphs)
        self._term_counts = TermCounts(table, f"{table}_fts")

    def visible(self, where: RecordFilter) -> tuple[str, Params]:
        return where_visible(where, self._kind, self.alias)

    async def listed(
        self,
        where: RecordFilter,
        order: str,
        limit: int,
        offset: int = 0,
        also: str = "",
        also_params: Sequence[object] = (),
    ) -> list[T]:
        """Visible records, ``also`` holding, in ``order``, a page of ``limit``."""
        condition, params = self.visible(where)
        if also:
            condition += f" AND {also}"
            params.extend(also_params)
        return await self.fetch_all(
            condition, [*params, limit, offset], f"ORDER BY {order} LIMIT ? OFFSET ?"
        )

    async def count(self, where: RecordFilter) -> int:
        return await self._db.run(lambda c: self.count_on(c, where))

    def count_on(self, conn: sqlite3.Connection, where: RecordFilter) -> int:
        """``count`` on the database's thread."""
        counted = counted_scopes(where)
        if counted is not None:
            condition, params = counted
            sql = (
                "SELECT coalesce(sum(n), 0) FROM record_counts "
                f"WHERE kind = '{self.table}' AND tag = '' AND {condition}"
            )
        else:
            condition, params = self.visible(where)
            sql = f"SELECT count(*) FROM {self.table} {self.alias} WHERE {condition}"
        [(count,)] = conn.execute(sql, params).fetchall()
        return int(count)

    async def search_text(self, where: RecordFilter, query: str, limit: int) -> list[Scored[T]]:
        condition, params = self.visible(where)
        rows = await self._db.run(
            lambda c: ranked_rows(
                c,
                fts=f"{self.table}_fts",
                table=self.table,
                alias=self.alias,
                columns=self.selected,
                condition=condition,
                params=params,
                query=query,
                limit=limit,
                counts=self._term_counts,
                plan=text_plan(where, messages=self._kind == "messages"),
            )
        )
        return [Scored(self.columns.record(row), -float(row[-1])) for row in rows]

    async def search_vector(
        self, where: RecordFilter, vector: Sequence[float], limit: int
    ) -> list[Scored[T]]:
        condition, params = self.visible(where)
        alias = self.alias

        def rows(conn: sqlite3.Connection, positions: list[int]) -> dict[int, T]:
            # NOT INDEXED: lacking statistics, the planner would rather scan the agent's rows
            # by index than look up these few rowids.
            found = conn.execute(
                f"SELECT {alias}.pos, {self.selected} FROM {self.table} {alias} NOT INDEXED "
                f"WHERE {alias}.pos IN ({placeholders(len(positions))}) AND {condition}",
                positions + params,
            ).fetchall()
            return {row[0]: self.columns.record(row[1:]) for row in found}

        return await nearest(self._db, self._vectors, where, vector, limit, rows)

    async def set_embeddings(self, embeddings: Sequence[tuple[str, Sequence[float]]]) -> None:
        """Attach each embedding to the record with its id, under a fresh vector revision."""
        if not embeddings:
            return

        def attach(conn: sqlite3.Connection) -> None:
            with write(conn):
                attach_embeddings(conn, self._kind, embeddings)

        await self._db.run(attach)


def attach_embeddings(
    conn: sqlite3.Connection, table: Kind, embeddings: Sequence[tuple[str, Sequence[float]]]
) -> None:
    """``set_embeddings`` inside a write transaction already begun."""
    if not embeddings:
        return
    revs = take_revs(conn, table, len(embeddings))
    conn.executemany(
        f"UPDATE {table} SET embedding = ?, vec_rev = ? WHERE id = ?",
        [
            (as_blob(vector), rev, record_id)
            for (record_id, vector), rev in zip(embeddings, revs, strict=True)
        ],
    )
