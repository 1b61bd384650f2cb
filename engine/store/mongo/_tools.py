"""Custom tools in ``custom_tools`` by name, each write a compare-and-set on the version."""

from __future__ import annotations

import builtins
from dataclasses import replace

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from engine.store.codec import decode, encode
from engine.store.mongo._documents import Collection, find_record
from engine.tools.custom._custom import CustomTool


class MongoToolRegistry:
    def __init__(self, collection: Collection) -> None:
        self._tools = collection

    async def get(self, name: str) -> CustomTool | None:
        return await find_record(self._tools, CustomTool, {"_id": name})

    async def list(self) -> builtins.list[CustomTool]:
        cursor = self._tools.find({}, {"_id": False}).sort("_id", ASCENDING)
        return [decode(CustomTool, doc) async for doc in cursor]

    async def put(self, tool: CustomTool, expected_version: int) -> CustomTool | None:
        stored = replace(tool, version=expected_version + 1)
        doc = encode(stored)
        if expected_version == 0:
            try:
                await self._tools.insert_one({"_id": tool.name, **doc})
            except DuplicateKeyError:
                return None
            return stored
        result = await self._tools.replace_one({"_id": tool.name, "version": expected_version}, doc)
        return stored if result.matched_count == 1 else None

    async def delete(self, name: str) -> bool:
        result = await self._tools.delete_one({"_id": name})
        return result.deleted_count > 0
