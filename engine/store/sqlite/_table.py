"""Records of one type in one table: the statements every typed store shares."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence

from engine.store.sqlite._columns import Columns
from engine.store.sqlite._database import Database, write


class RecordTable[T]:
    """``T`` records laid out by ``columns`` in ``table``; ``fetch`` finds one by its ``key``
    column (tables keyed by several columns use ``fetch_where``).

    A typed store is one (or holds several) and adds the statements only it needs. A store
    may keep ``also`` columns beside a record's own: values the record holds deeper down, or
    that only the store knows, for unique indexes and filters to use.
    """

    def __init__(
        self, db: Database, table: str, columns: Columns[T], *, key: str = "id", alias: str = ""
    ) -> None:
        self._db = db
        self.table = table
        self.columns = columns
        self.key = key
        #: What conditions call the table ("" for its own name).
        self.alias = alias
        self.selected = columns.listed(alias)
        self._fetch_sql = f"SELECT {columns.listed()} FROM {table} WHERE {key} = ?"

    async def fetch(self, value: object) -> T | None:
        """The record whose ``key`` column holds ``value``, if there is one."""
        return await self._db.run(lambda c: self.fetch_on(c, value))

    async def fetch_where(self, condition: str, params: Sequence[object]) -> T | None:
        """The record ``condition`` picks (one keyed by several columns), if there is one."""
        found = await self.fetch_all(condition, params, "LIMIT 1")
        return found[0] if found else None

    def fetch_on(self, conn: sqlite3.Connection, value: object) -> T | None:
        """``fetch`` on the database's thread, inside a transaction already begun."""
        row = conn.execute(self._fetch_sql, (value,)).fetchone()
        return None if row is None else self.columns.record(row)

    async def fetch_all(
        self, condition: str, params: Sequence[object] = (), tail: str = ""
    ) -> list[T]:
        """Records matching ``condition`` (naming the table by its alias), then ``tail``."""
        sql = f"SELECT {self.selected} FROM {self.table} {self.alias} WHERE {condition} {tail}"
        return [self.columns.record(row) for row in await self._db.query(sql, params)]

    def insert_sql(self, also: Sequence[str] = (), *, replace: bool = False) -> str:
        """The INSERT of a record's row and then the ``also`` columns; a row whose unique key
        is taken is ignored, or with ``replace`` replaces the one there."""
        names = ", ".join([self.columns.listed(), *also])
        slots = ", ".join([self.columns.slots, *["?"] * len(also)])
        conflict = "REPLACE" if replace else "IGNORE"
        return f"INSERT OR {conflict} INTO {self.table} ({names}) VALUES ({slots})"

    async def add(
        self, record: T, also: Mapping[str, object] | None = None, *, replace: bool = False
    ) -> bool:
        """Store ``record`` with the ``also`` columns' values; False when ignored."""
        also = also or {}
        sql = self.insert_sql(tuple(also), replace=replace)
        params = (*self.columns.row(record), *also.values())
        return await self._db.execute(sql, params) > 0

    async def overwrite(self, record: T, condition: str, params: Sequence[object]) -> bool:
        """Write ``record`` over the row ``condition`` picks; False when none matched."""
        assignments = ", ".join(f"{name} = ?" for name in self.columns.names)
        sql = f"UPDATE {self.table} SET {assignments} WHERE {condition}"
        return await self._db.execute(sql, (*self.columns.row(record), *params)) > 0

    async def put_version(
        self, record: T, expected_version: int, condition: str, params: Sequence[object]
    ) -> bool:
        """Compare-and-set on a ``version`` column: ``record``, at ``expected_version + 1``,
        is created when ``expected_version`` is 0 and its key is free, or written over the
        row ``condition`` picks while that row is still at ``expected_version``."""
        if expected_version == 0:
            return await self.add(record)
        return await self.overwrite(
            record, f"{condition} AND version = ?", (*params, expected_version)
        )

    async def delete_where(self, condition: str, params: Sequence[object]) -> int:
        """Delete the rows matching ``condition`` (naming columns bare); how many went."""
        sql = f"DELETE FROM {self.table} WHERE {condition}"

        def delete(conn: sqlite3.Connection) -> int:
            with write(conn):
                return conn.execute(sql, params).rowcount

        return await self._db.run(delete)
