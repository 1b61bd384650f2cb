"""Core-memory block parts, with compare-and-set updates on their version."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from engine.audience import Scope
from engine.records import Block, BlockLabel, utcnow
from engine.store.block_selection import BlockSelection
from engine.store.lineage import Link
from engine.store.protocol import BlockStore
from engine.store.sqlite._columns import Columns
from engine.store.sqlite._database import Database, write
from engine.store.sqlite._filters import placeholders
from engine.store.sqlite._table import RecordTable
from engine.store.sqlite._time import to_micros
from engine.store.sqlite.lineage import link_on

#: ``limit`` is an SQL keyword, so its column is ``char_limit``.
COLUMNS = Columns(Block, renamed={"limit": "char_limit"})
_COLUMNS = COLUMNS.listed()
_ORDER = "ORDER BY label, subject, pos"


class SQLiteBlockStore(RecordTable[Block], BlockStore):
    def __init__(self, db: Database) -> None:
        super().__init__(db, "blocks", COLUMNS)

    async def select(self, selection: BlockSelection) -> list[Block]:
        return await self._db.run(lambda c: self.select_on(c, selection))

    def select_on(self, conn: sqlite3.Connection, selection: BlockSelection) -> list[Block]:
        """``select`` on the database's thread."""
        if selection.matches_nothing:
            return []
        owners, scopes = placeholders(len(selection.owners)), placeholders(len(selection.scopes))
        condition = f"owner IN ({owners}) AND workspace IN (?, ?) AND scope IN ({scopes})"
        params = [*selection.owners, *selection.workspaces, *selection.stored_scopes]
        if selection.keys is not None:
            pairs = ",".join(["(?, ?)"] * len(selection.keys))
            condition += f" AND (label, subject) IN (VALUES {pairs})"
            params.extend(part for key in selection.keys for part in key)
        sql = f"SELECT {self.selected} FROM blocks WHERE {condition} {_ORDER}"
        return [COLUMNS.record(row) for row in conn.execute(sql, params)]

    async def create(self, block: Block) -> Block:
        def create(conn: sqlite3.Connection) -> Block:
            row = conn.execute(
                f"INSERT INTO blocks ({_COLUMNS}) VALUES ({COLUMNS.slots}) "
                f"ON CONFLICT DO NOTHING RETURNING {_COLUMNS}",
                COLUMNS.row(block),
            ).fetchone()
            if row is None:
                row = conn.execute(
                    f"SELECT {_COLUMNS} FROM blocks WHERE owner = ? AND workspace = ? "
                    "AND label = ? AND subject = ? AND scope = ?",
                    (block.owner, block.workspace, block.label, block.subject, str(block.scope)),
                ).fetchone()
            if row is None:
                raise ValueError(f"block id {block.id!r} is already used by another block")
            return COLUMNS.record(row)

        return await self._db.run(create)

    async def update(
        self, block_id: str, expected_version: int, value: str, links: Sequence[Link] = ()
    ) -> Block | None:
        now = to_micros(utcnow())

        def update(conn: sqlite3.Connection) -> Block | None:
            with write(conn):
                row = conn.execute(
                    "UPDATE blocks SET value = ?, version = version + 1, updated_at = ? "
                    f"WHERE id = ? AND version = ? RETURNING {_COLUMNS}",
                    (value, now, block_id, expected_version),
                ).fetchone()
                if row is None:
                    return None
                link_on(conn, links)
            return COLUMNS.record(row)

        return await self._db.run(update)

    async def get(self, block_id: str) -> Block | None:
        return await self.fetch(block_id)

    async def list(self, owner: str, workspace: str | None = None) -> list[Block]:
        if workspace is None:
            return await self.fetch_all("owner = ?", (owner,), _ORDER)
        return await self.fetch_all("owner = ? AND workspace = ?", (owner, workspace), _ORDER)

    async def delete(self, block_id: str) -> bool:
        return await self.delete_where("id = ?", (block_id,)) > 0

    async def delete_user(self, workspace: str, user: str) -> int:
        return await self.delete_where(
            "workspace = ? AND ((label = ? AND subject = ?) OR scope = ?)",
            (workspace, BlockLabel.HUMAN.value, user, str(Scope.dm(user))),
        )
