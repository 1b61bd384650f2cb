"""``forget`` for what the jobs keep: run records and checkpoints over a user's DMs.

The memory the jobs write (blocks, passages, digests, summaries) carries the user or their DM
scope, so ``UserDataService.forget_user`` removes it; this removes the jobs' own bookkeeping.
"""

from __future__ import annotations

from engine import Store, UserDataService


class UserDataWithJobRecords(UserDataService):
    """``UserDataService`` whose ``forget_user`` also deletes the jobs' records of the user."""

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self._jobs = store.jobs

    async def forget_user(self, workspace: str, user: str) -> int:
        removed = await super().forget_user(workspace, user)
        # Run records, target states and checkpoints of the user's DMs.
        return removed + await self._jobs.forget_user(workspace, user)
