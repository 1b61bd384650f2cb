"""Small JSON documents by namespace and key (installations, OAuth state, settings)."""

from __future__ import annotations

import builtins
import re

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from engine.records import JSON
from engine.store.mongo._documents import Collection, Document


def _key(namespace: str, key: str) -> Document:
    return {"namespace": namespace, "key": key}


class MongoKeyValues:
    def __init__(self, collection: Collection) -> None:
        self._entries = collection

    async def get(self, namespace: str, key: str) -> JSON | None:
        doc = await self._entries.find_one(_key(namespace, key))
        return None if doc is None else dict(doc["value"])

    async def put(self, namespace: str, key: str, value: JSON) -> None:
        try:
            await self._upsert(namespace, key, value)
        except DuplicateKeyError:
            # Two first writers raced on the unique key; the loser's write now updates.
            await self._upsert(namespace, key, value)

    async def _upsert(self, namespace: str, key: str, value: JSON) -> None:
        await self._entries.update_one(
            _key(namespace, key), {"$set": {"value": value}}, upsert=True
        )

    async def delete(self, namespace: str, key: str) -> bool:
        result = await self._entries.delete_one(_key(namespace, key))
        return result.deleted_count > 0

    async def list(self, namespace: str, prefix: str = "") -> builtins.list[tuple[str, JSON]]:
        query: Document = {"namespace": namespace}
        if prefix:
            query["key"] = {"$regex": "^" + re.escape(prefix)}
        cursor = self._entries.find(query).sort("key", ASCENDING)
        return [(str(doc["key"]), dict(doc["value"])) async for doc in cursor]
