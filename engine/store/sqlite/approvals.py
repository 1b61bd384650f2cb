"""Tool calls waiting for approval, one row each; decided by an UPDATE guarded on status."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from engine.store.approvals import ApprovalRequest, ApprovalStatus
from engine.store.lineage import batches
from engine.store.sqlite._columns import Columns
from engine.store.sqlite._database import Database
from engine.store.sqlite._filters import placeholders
from engine.store.sqlite._table import RecordTable
from engine.store.sqlite._time import to_micros

#: The requests a person made, and those made in their DMs (params: workspace, user, user).
_OF_USER = (
    "workspace = ? AND (requester = ? OR (json_extract(inbound, '$.audience.kind') = 'dm'"
    " AND json_extract(inbound, '$.audience.user') = ?))"
)


class SQLiteApprovals(RecordTable[ApprovalRequest]):
    def __init__(self, db: Database) -> None:
        super().__init__(db, "approvals", Columns(ApprovalRequest))

    async def put(self, request: ApprovalRequest) -> bool:
        return await self.add(request)

    async def get(self, request_id: str) -> ApprovalRequest | None:
        return await self.fetch(request_id)

    async def decide(
        self, request_id: str, status: ApprovalStatus, by: str, at: datetime
    ) -> ApprovalRequest | None:
        sql = (
            "UPDATE approvals SET status = ?, decided_by = ?, decided_at = ? "
            f"WHERE id = ? AND status = ? RETURNING {self.selected}"
        )
        params = (status.value, by, to_micros(at), request_id, ApprovalStatus.PENDING.value)
        rows = await self._db.query(sql, params)
        return self.columns.record(rows[0]) if rows else None

    async def keep_result(self, request_id: str, result: str) -> None:
        await self._db.execute("UPDATE approvals SET result = ? WHERE id = ?", (result, request_id))

    async def mark_resumed(self, request_id: str, at: datetime) -> None:
        await self._db.execute(
            "UPDATE approvals SET resumed_at = ? WHERE id = ?", (to_micros(at), request_id)
        )

    async def unresumed(self, decided_before: datetime, limit: int) -> list[ApprovalRequest]:
        return await self.fetch_all(
            "resumed_at IS NULL AND decided_at IS NOT NULL AND decided_at <= ?",
            (to_micros(decided_before),),
            f"ORDER BY decided_at LIMIT {int(limit)}",
        )

    async def of_user(self, workspace: str, user: str) -> list[ApprovalRequest]:
        return await self.fetch_all(_OF_USER, (workspace, user, user), "ORDER BY created_at, id")

    async def delete_user(self, workspace: str, user: str) -> int:
        return await self.delete_where(_OF_USER, (workspace, user, user))

    async def delete_sources(self, sources: Sequence[str]) -> int:
        removed = 0
        for batch in batches(sorted(set(sources))):
            removed += await self.delete_where(f"source IN ({placeholders(len(batch))})", batch)
        return removed

    async def overdue(self, now: datetime, limit: int) -> list[ApprovalRequest]:
        return await self.fetch_all(
            "status = ? AND expires_at <= ?",
            (ApprovalStatus.PENDING.value, to_micros(now)),
            f"ORDER BY expires_at LIMIT {int(limit)}",
        )
