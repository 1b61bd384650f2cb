"""Conversation summaries, written by compare-and-set on their version."""

from __future__ import annotations

from dataclasses import replace

from engine.audience import Scope
from engine.records import ConversationKey, Summary
from engine.store.sqlite._columns import Columns
from engine.store.sqlite._database import Database

COLUMNS = Columns(Summary)
_KEY = "agent_id = ? AND workspace = ? AND channel = ? AND thread = ?"


class SQLiteSummaryStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, conversation: ConversationKey) -> Summary | None:
        sql = f"SELECT {COLUMNS.listed()} FROM summaries WHERE {_KEY}"
        key = (
            conversation.agent_id,
            conversation.workspace,
            conversation.channel,
            conversation.thread,
        )
        row = await self._db.run(lambda c: c.execute(sql, key).fetchone())
        return None if row is None else COLUMNS.record(row)

    async def put(self, summary: Summary, expected_version: int) -> bool:
        """Stored with version ``expected_version + 1`` when the CAS succeeds."""
        row = COLUMNS.row(replace(summary, version=expected_version + 1))
        if expected_version == 0:
            sql = f"INSERT OR IGNORE INTO summaries ({COLUMNS.listed()}) VALUES ({COLUMNS.slots})"
            params: tuple[object, ...] = row
        else:
            assignments = ", ".join(f"{name} = ?" for name in COLUMNS.names)
            sql = f"UPDATE summaries SET {assignments} WHERE {_KEY} AND version = ?"
            key = (summary.agent_id, summary.workspace, summary.channel, summary.thread)
            params = (*row, *key, expected_version)
        changed = await self._db.run(lambda c: c.execute(sql, params).rowcount)
        return changed > 0

    async def delete_user(self, workspace: str, user: str) -> int:
        return await self._db.run(
            lambda c: (
                c.execute(
                    "DELETE FROM summaries WHERE workspace = ? AND scope = ?",
                    (workspace, str(Scope.dm(user))),
                ).rowcount
            )
        )
