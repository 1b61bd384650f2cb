"""Conversation summaries, written by compare-and-set on their version."""

from __future__ import annotations

import sqlite3
from dataclasses import replace

from engine.audience import Scope
from engine.records import ConversationKey, Summary
from engine.store.sqlite._columns import Columns
from engine.store.sqlite._database import Database
from engine.store.sqlite._filters import conversation_params
from engine.store.sqlite._table import RecordTable

_KEY = "agent_id = ? AND workspace = ? AND channel = ? AND thread = ?"


class SQLiteSummaryStore(RecordTable[Summary]):
    def __init__(self, db: Database) -> None:
        super().__init__(db, "summaries", Columns(Summary))

    async def get(self, conversation: ConversationKey) -> Summary | None:
        return await self._db.run(lambda c: self.get_on(c, conversation))

    def get_on(self, conn: sqlite3.Connection, conversation: ConversationKey) -> Summary | None:
        """``get`` on the database's thread."""
        sql = f"SELECT {self.selected} FROM summaries WHERE {_KEY} LIMIT 1"
        row = conn.execute(sql, conversation_params(conversation)).fetchone()
        return None if row is None else self.columns.record(row)

    async def put(self, summary: Summary, expected_version: int) -> bool:
        """Stored with version ``expected_version + 1`` when the CAS succeeds."""
        stored = replace(summary, version=expected_version + 1)
        key = conversation_params(summary.conversation)
        return await self.put_version(stored, expected_version, _KEY, key)

    async def delete_user(self, workspace: str, user: str) -> int:
        return await self.delete_where(
            "workspace = ? AND scope = ?", (workspace, str(Scope.dm(user)))
        )
