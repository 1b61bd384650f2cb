"""Agents: one row per agent, its configuration kept as a codec document."""

from __future__ import annotations

import builtins
import json
import sqlite3
from collections.abc import Sequence

from engine.records import Agent
from engine.store.codec import decode, encode
from engine.store.sqlite._database import Database


class SQLiteAgentStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def put(self, agent: Agent) -> None:
        await self._db.execute(
            "INSERT INTO agents (id, name, doc) VALUES (?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET name = excluded.name, doc = excluded.doc",
            (agent.id, agent.name, json.dumps(encode(agent))),
        )

    async def get(self, agent_id: str) -> Agent | None:
        return await self._db.run(lambda c: self.get_on(c, agent_id))

    def get_on(self, conn: sqlite3.Connection, agent_id: str) -> Agent | None:
        """``get`` on the database's thread."""
        row = conn.execute("SELECT doc FROM agents WHERE id = ?", (agent_id,)).fetchone()
        return None if row is None else decode(Agent, json.loads(row[0]))

    async def by_name(self, name: str) -> Agent | None:
        return await self._first("WHERE name = ? ORDER BY id", (name,))

    async def list(self) -> list[Agent]:
        return await self._select("ORDER BY name, id")

    async def delete(self, agent_id: str) -> bool:
        return await self._db.execute("DELETE FROM agents WHERE id = ?", (agent_id,)) > 0

    async def _select(self, tail: str, params: Sequence[object] = ()) -> builtins.list[Agent]:
        rows = await self._db.query(f"SELECT doc FROM agents {tail}", params)
        return [decode(Agent, json.loads(doc)) for (doc,) in rows]

    async def _first(self, tail: str, params: Sequence[object]) -> Agent | None:
        found = await self._select(f"{tail} LIMIT 1", params)
        return found[0] if found else None
