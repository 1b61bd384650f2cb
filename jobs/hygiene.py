"""Archival hygiene: a fact stored again and again is kept once, the newest wording winning.

For each (agent, workspace, scope) with recent activity, every passage stored since the last
check is compared by embedding with its nearest neighbours under the same scope; older
passages at or above the similarity threshold are removed. When they were about people or
tags the newest lacks, the newest is stored again with those merged in, so ``forget`` still
finds it and tag searches still match; what is kept is derived from every passage it stands
for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from engine import (
    SOURCE_TAG,
    Derived,
    JobCheckpoint,
    Passage,
    RecordFilter,
    Scope,
    forget_lost_sources,
    link_derived,
    new_id,
)
from jobs.job import MemoryJob, RunContext, Target
from jobs.settings import HygieneSettings

DIGEST_TAG = "digest"
#: Digests and chunks of documents stand as written: a document's chunks change only when the
#: document does.
_KEPT_AS_WRITTEN = frozenset({DIGEST_TAG, SOURCE_TAG})
#: Passages examined per run, newest first; the rest wait for the next run.
_PER_RUN = 500
_NEIGHBOURS = 8
#: Passages stored while a run reads are examined again by the next one.
_OVERLAP = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class ArchivalScope:
    agent_id: str
    workspace: str
    scope: Scope

    @property
    def where(self) -> RecordFilter:
        return RecordFilter(self.agent_id, self.workspace, (self.scope,))


class HygieneJob(MemoryJob[HygieneSettings]):
    name = "hygiene"

    async def targets(self, now: datetime) -> Sequence[Target[ArchivalScope]]:
        since = now - timedelta(hours=self._settings.lookback_hours)
        groups = {
            ArchivalScope(a.conversation.agent_id, a.conversation.workspace, a.scope)
            for a in await self._store.messages.conversations_since(since)
        }
        return [
            Target(f"{g.agent_id}/{g.workspace}/{g.scope}", g.workspace, g.scope, g)
            for g in sorted(groups, key=lambda g: (g.agent_id, g.workspace, str(g.scope)))
        ]

    async def run(self, group: ArchivalScope, ctx: RunContext) -> str:
        key = f"{group.agent_id}/{group.workspace}/{group.scope}"
        checked = await self._store.jobs.checkpoint(self.name, key)
        since = checked.at - _OVERLAP if checked and checked.at else None
        fresh = await self._store.passages.list(replace(group.where, start=since), _PER_RUN)
        removed: set[str] = set()
        for passage in fresh:  # newest first: each one wins over its older duplicates
            if passage.id not in removed and _KEPT_AS_WRITTEN.isdisjoint(passage.tags):
                removed |= await self._merge_duplicates(group, passage, removed)
        await self._store.jobs.save_checkpoint(
            self.name, key, JobCheckpoint(group.workspace, group.scope, at=ctx.now)
        )
        return f"{len(fresh)} passages checked; {len(removed)} duplicates removed"

    async def _merge_duplicates(
        self, group: ArchivalScope, newest: Passage, removed: set[str]
    ) -> set[str]:
        vector = newest.embedding
        if vector is None:
            vector = tuple(float(x) for x in (await self._embedder.embed([newest.text]))[0])
        near = await self._store.passages.search_vector(group.where, vector, _NEIGHBOURS)
        older = [
            hit.record
            for hit in near
            if hit.score >= self._settings.duplicate_similarity
            and hit.record.id != newest.id
            and hit.record.id not in removed
            and _KEPT_AS_WRITTEN.isdisjoint(hit.record.tags)
            and _older(hit.record, newest)
        ]
        if not older:
            return set()
        tags = tuple(sorted({*newest.tags, *(t for p in older for t in p.tags)}))
        users = tuple(sorted({*newest.users, *(u for p in older for u in p.users)}))
        gone = {p.id for p in older}
        survivor = newest
        if set(tags) != set(newest.tags) or set(users) != set(newest.users):
            survivor = replace(newest, id=new_id(), tags=tags, users=users, embedding=vector)
            gone.add(newest.id)
        # What is kept stands for every duplicate: it keeps the sources of all of them.
        merged = [(Derived.PASSAGE, p.id) for p in (newest, *older) if p.id != survivor.id]
        lineage = self._store.lineage
        await link_derived(lineage, group.workspace, Derived.PASSAGE, survivor.id, merged)
        if survivor is not newest:
            await self._store.passages.insert([survivor])
        # A duplicate forgotten while this merge read it takes what the merge wrote with it;
        # the others stay for the next run to merge.
        await forget_lost_sources(self._store, (), [p.id for p in (newest, *older)])
        if await self._store.passages.get(survivor.id) is None:
            return set()
        await self._store.passages.delete(sorted(gone))
        await lineage.unlink_records(Derived.PASSAGE, sorted(gone))
        return gone


def _older(candidate: Passage, newest: Passage) -> bool:
    return (candidate.created_at, candidate.id) < (newest.created_at, newest.id)
