"""``forget`` for what the jobs keep: run records and checkpoints over a user's DMs.

The memory the jobs write (blocks, passages, digests, summaries) carries the user or their DM
scope, so ``UserDataService.forget_user`` removes it; this removes the jobs' own bookkeeping.
"""

from __future__ import annotations

from engine.audience import dm_scope
from engine.store.protocol import KeyValueStore
from jobs import consolidation, hygiene
from jobs.history import JobHistory


async def forget_job_records(kv: KeyValueStore, workspace: str, user: str) -> int:
    """Delete job records and checkpoints about ``user``'s DMs; returns how many."""
    removed = await JobHistory(kv).forget_user(workspace, user)
    private = dm_scope(user)
    for namespace in (consolidation.CHECKPOINTS, hygiene.CHECKPOINTS):
        for key, doc in await kv.list(namespace):
            if doc.get("workspace") == workspace and doc.get("scope") == private:
                removed += await kv.delete(namespace, key)
    return removed
