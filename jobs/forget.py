"""``forget`` for what the jobs keep: run records and checkpoints over a user's DMs.

The memory the jobs write (blocks, passages, digests, summaries) carries the user or their DM
scope, so ``UserDataService.forget_user`` removes it; this removes the jobs' own bookkeeping.
"""

from __future__ import annotations

from engine.audience import Scope
from engine.store.protocol import KeyValueStore, Store
from engine.user_data import UserDataService
from jobs import consolidation, hygiene
from jobs.history import JobHistory


async def forget_job_records(kv: KeyValueStore, workspace: str, user: str) -> int:
    """Delete job records and checkpoints about ``user``'s DMs; returns how many."""
    removed = await JobHistory(kv).forget_user(workspace, user)
    private = str(Scope.dm(user))
    for namespace in (consolidation.CHECKPOINTS, hygiene.CHECKPOINTS):
        for key, doc in await kv.list(namespace):
            if doc.get("workspace") == workspace and doc.get("scope") == private:
                removed += await kv.delete(namespace, key)
    return removed


class UserDataWithJobRecords(UserDataService):
    """``UserDataService`` whose ``forget_user`` also deletes the jobs' records of the user."""

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self._kv = store.kv

    async def forget_user(self, workspace: str, user: str) -> int:
        removed = await super().forget_user(workspace, user)
        return removed + await forget_job_records(self._kv, workspace, user)
