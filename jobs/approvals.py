"""Approval upkeep: requests nobody decided in time expire, and their conversations hear so;
a decision the bot stopped in the middle of is told to its conversation.

A press after the deadline expires a request too; this job is what tells a conversation
whose approvers never came back.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from engine import ApprovalDesk
from jobs.job import RunContext, Target

#: Seconds between two looks for overdue requests.
UPKEEP_EVERY_S = 60.0


class ApprovalUpkeepJob:
    name = "approvals"

    def __init__(self, desk: ApprovalDesk, cadence_s: float = UPKEEP_EVERY_S) -> None:
        self._desk = desk
        self.cadence_s = cadence_s

    async def targets(self, now: datetime) -> Sequence[Target[None]]:
        return [Target("approvals", "", None, None)] if await self._desk.upkeep_due(now) else []

    async def run(self, target: None, ctx: RunContext) -> str:
        expired = await self._desk.expire_overdue()
        resumed = await self._desk.resume_interrupted()
        return f"{expired} requests expired, {resumed} interrupted decisions told"
