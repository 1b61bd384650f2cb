"""Agents: one row per agent, its configuration kept as a codec document."""

from __future__ import annotations

import json
import sqlite3

from engine.records import Agent
from engine.store.codec import decode, encode
from engine.store.sqlite._database import Database


def _agent(row: tuple[str] | None) -> Agent | None:
    return None if row is None else decode(Agent, json.loads(row[0]))


class SQLiteAgentStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def put(self, agent: Agent) -> None:
        doc = json.dumps(encode(agent))

        def put(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO agents (id, name, doc) VALUES (?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET name = excluded.name, doc = excluded.doc",
                (agent.id, agent.name, doc),
            )

        await self._db.run(put)

    async def get(self, agent_id: str) -> Agent | None:
        return _agent(
            await self._db.run(
                lambda c: c.execute("SELECT doc FROM agents WHERE id = ?", (agent_id,)).fetchone()
            )
        )

    async def by_name(self, name: str) -> Agent | None:
        return _agent(
            await self._db.run(
                lambda c: c.execute(
                    "SELECT doc FROM agents WHERE name = ? ORDER BY id LIMIT 1", (name,)
                ).fetchone()
            )
        )

    async def list(self) -> list[Agent]:
        rows = await self._db.run(
            lambda c: c.execute("SELECT doc FROM agents ORDER BY name, id").fetchall()
        )
        return [decode(Agent, json.loads(doc)) for (doc,) in rows]

    async def delete(self, agent_id: str) -> bool:
        deleted = await self._db.run(
            lambda c: c.execute("DELETE FROM agents WHERE id = ?", (agent_id,)).rowcount
        )
        return deleted > 0
