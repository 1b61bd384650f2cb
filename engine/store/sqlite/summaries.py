"""Conversation summaries, written by compare-and-set on their version."""

from __future__ import annotations

from engine.audience import Scope
from engine.records import ConversationKey, Summary
from engine.store.sqlite._database import Database
from engine.store.sqlite._time import from_micros, to_micros


class SQLiteSummaryStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, conversation: ConversationKey) -> Summary | None:
        row = await self._db.run(
            lambda c: c.execute(
                "SELECT scope, text, through_seq, version, updated_at FROM summaries "
                "WHERE agent_id = ? AND workspace = ? AND channel = ? AND thread = ?",
                (
                    conversation.agent_id,
                    conversation.workspace,
                    conversation.channel,
                    conversation.thread,
                ),
            ).fetchone()
        )
        if row is None:
            return None
        scope, text, through_seq, version, updated_at = row
        return Summary(
            agent_id=conversation.agent_id,
            workspace=conversation.workspace,
            channel=conversation.channel,
            thread=conversation.thread,
            scope=Scope.parse(scope),
            text=text,
            through_seq=through_seq,
            version=version,
            updated_at=from_micros(updated_at),
        )

    async def put(self, summary: Summary, expected_version: int) -> bool:
        """Stored with version ``expected_version + 1`` when the CAS succeeds."""
        values = (
            str(summary.scope),
            summary.text,
            summary.through_seq,
            expected_version + 1,
            to_micros(summary.updated_at),
        )
        key = (summary.agent_id, summary.workspace, summary.channel, summary.thread)
        if expected_version == 0:
            sql = (
                "INSERT OR IGNORE INTO summaries (scope, text, through_seq, version, updated_at, "
                "agent_id, workspace, channel, thread) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            )
            params: tuple[object, ...] = (*values, *key)
        else:
            sql = (
                "UPDATE summaries SET scope = ?, text = ?, through_seq = ?, version = ?, "
                "updated_at = ? WHERE agent_id = ? AND workspace = ? AND channel = ? "
                "AND thread = ? AND version = ?"
            )
            params = (*values, *key, expected_version)
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
