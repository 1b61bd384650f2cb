"""Custom tools by name, each write a compare-and-set on the tool's version."""

from __future__ import annotations

import builtins
from dataclasses import replace

from engine.store.sqlite._columns import Columns
from engine.store.sqlite._database import Database
from engine.tools.custom._custom import CustomTool

TOOLS = Columns(CustomTool)
_COLUMNS = TOOLS.listed()


class SQLiteToolRegistry:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, name: str) -> CustomTool | None:
        return await self._db.run(lambda c: TOOLS.fetch_one(c, "custom_tools", "name", name))

    async def list(self) -> builtins.list[CustomTool]:
        rows = await self._db.run(
            lambda c: c.execute(f"SELECT {_COLUMNS} FROM custom_tools ORDER BY name").fetchall()
        )
        return [TOOLS.record(row) for row in rows]

    async def put(self, tool: CustomTool, expected_version: int) -> CustomTool | None:
        stored = replace(tool, version=expected_version + 1)
        row = TOOLS.row(stored)
        if expected_version == 0:
            sql = f"INSERT OR IGNORE INTO custom_tools ({_COLUMNS}) VALUES ({TOOLS.slots})"
            params: tuple[object, ...] = row
        else:
            assignments = ", ".join(f"{name} = ?" for name in TOOLS.names)
            sql = f"UPDATE custom_tools SET {assignments} WHERE name = ? AND version = ?"
            params = (*row, tool.name, expected_version)
        changed: int = await self._db.run(lambda c: c.execute(sql, params).rowcount)
        return stored if changed else None

    async def delete(self, name: str) -> bool:
        deleted: int = await self._db.run(
            lambda c: c.execute("DELETE FROM custom_tools WHERE name = ?", (name,)).rowcount
        )
        return deleted > 0
