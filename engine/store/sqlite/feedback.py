"""Ratings of replies, one row per person per reply."""

from __future__ import annotations

from collections.abc import Sequence

from engine.store.feedback import Feedback
from engine.store.sqlite._columns import Columns
from engine.store.sqlite._database import Database
from engine.store.sqlite._table import RecordTable


class SQLiteFeedback(RecordTable[Feedback]):
    def __init__(self, db: Database) -> None:
        super().__init__(db, "feedback", Columns(Feedback), key="reply_id")

    async def put(self, feedback: Feedback) -> None:
        await self.add(feedback, replace=True)

    async def for_turns(self, turn_ids: Sequence[str]) -> list[Feedback]:
        if not turn_ids:
            return []
        slots = ", ".join("?" * len(turn_ids))
        return await self.fetch_all(f"turn_id IN ({slots})", tuple(turn_ids), "ORDER BY at")

    async def recent(self, limit: int, workspace: str | None = None) -> list[Feedback]:
        if limit <= 0:
            return []
        condition, params = ("workspace = ?", (workspace,)) if workspace else ("1", ())
        return await self.fetch_all(condition, params, f"ORDER BY at DESC LIMIT {int(limit)}")

    async def of_user(self, workspace: str, user: str) -> list[Feedback]:
        return await self.fetch_all(
            "workspace = ? AND user = ?", (workspace, user), "ORDER BY at DESC"
        )

    async def delete_user(self, workspace: str, user: str) -> int:
        return await self.delete_where("workspace = ? AND user = ?", (workspace, user))
