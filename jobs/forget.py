"""``forget`` for what the jobs keep: run records and checkpoints over a user's DMs.

The memory the jobs write (blocks, passages, digests, summaries) carries the user or their DM
scope, so ``UserDataService.forget_user`` removes it; this removes the jobs' own bookkeeping.
"""

from __future__ import annotations

from dataclasses import replace

from engine import ForgetReport, HybridSearch, Store, UserDataService


class UserDataWithJobRecords(UserDataService):
    """``UserDataService`` whose ``forget_user`` also deletes the jobs' records of the user."""

    def __init__(self, store: Store, search: HybridSearch | None = None) -> None:
        super().__init__(store, search)
        self._jobs = store.jobs

    async def forget_user(self, workspace: str, user: str) -> ForgetReport:
        removed = await super().forget_user(workspace, user)
        # Run records, target states and checkpoints of the user's DMs.
        records = await self._jobs.forget_user(workspace, user)
        return replace(removed, job_records=removed.job_records + records)
