"""Approval expiry: requests nobody decided in time expire, and their conversations hear so.

A press after the deadline expires a request too; this job is what tells a conversation
whose approvers never came back.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from engine import ApprovalDesk, ApprovalStore
from jobs.job import RunContext, Target

#: Seconds between two looks for overdue requests.
EXPIRY_EVERY_S = 60.0


class ApprovalExpiryJob:
    name = "approval_expiry"

    def __init__(
        self, approvals: ApprovalStore, desk: ApprovalDesk, cadence_s: float = EXPIRY_EVERY_S
    ) -> None:
        self._approvals = approvals
        self._desk = desk
        self.cadence_s = cadence_s

    async def targets(self, now: datetime) -> Sequence[Target[None]]:
        if not await self._approvals.overdue(now, 1):
            return []
        return [Target("overdue", "", None, None)]

    async def run(self, target: None, ctx: RunContext) -> str:
        return f"{await self._desk.expire_overdue()} approval requests expired"
