"""Custom tools by name, each write a compare-and-set on the tool's version."""

from __future__ import annotations

import builtins
from dataclasses import replace

from engine.store.sqlite._columns import Columns
from engine.store.sqlite._database import Database
from engine.store.sqlite._table import RecordTable
from engine.tools.custom._custom import CustomTool


class SQLiteToolRegistry(RecordTable[CustomTool]):
    def __init__(self, db: Database) -> None:
        super().__init__(db, "custom_tools", Columns(CustomTool), key="name")

    async def get(self, name: str) -> CustomTool | None:
        return await self.fetch(name)

    async def list(self) -> builtins.list[CustomTool]:
        return await self.fetch_all("true", tail="ORDER BY name")

    async def put(self, tool: CustomTool, expected_version: int) -> CustomTool | None:
        stored = replace(tool, version=expected_version + 1)
        written = await self.put_version(stored, expected_version, "name = ?", (tool.name,))
        return stored if written else None

    async def delete(self, name: str) -> bool:
        return await self.delete_where("name = ?", (name,)) > 0
