"""Small JSON documents by namespace and key."""

from __future__ import annotations

import json

from engine.records import JSON
from engine.store.sqlite._database import Database

#: The greatest code point: every key starting with a prefix sorts below prefix + this.
_LAST = "\U0010ffff"


class SQLiteKeyValueStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, namespace: str, key: str) -> JSON | None:
        rows = await self._db.query(
            "SELECT value FROM kv WHERE namespace = ? AND key = ?", (namespace, key)
        )
        if not rows:
            return None
        value: JSON = json.loads(rows[0][0])
        return value

    async def put(self, namespace: str, key: str, value: JSON) -> None:
        await self._db.execute(
            "INSERT INTO kv (namespace, key, value) VALUES (?, ?, ?) "
            "ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value",
            (namespace, key, json.dumps(value)),
        )

    async def delete(self, namespace: str, key: str) -> bool:
        deleted = await self._db.execute(
            "DELETE FROM kv WHERE namespace = ? AND key = ?", (namespace, key)
        )
        return deleted > 0

    async def list(self, namespace: str, prefix: str = "") -> list[tuple[str, JSON]]:
        rows = await self._db.query(
            "SELECT key, value FROM kv WHERE namespace = ? AND key >= ? AND key < ? ORDER BY key",
            (namespace, prefix, prefix + _LAST),
        )
        return [(key, json.loads(value)) for key, value in rows]
