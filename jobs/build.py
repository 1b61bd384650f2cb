"""Assembles the scheduler with every memory job, from a store, a model and an embedder."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from engine import ApprovalDesk, ChatModel, Embedder, Store, utcnow
from jobs.approvals import ApprovalUpkeepJob
from jobs.consolidation import ConsolidationJob
from jobs.digests import DigestJob
from jobs.history import RunRecord
from jobs.hygiene import HygieneJob
from jobs.retention import RetentionJob
from jobs.runner import JobRunner
from jobs.scheduler import JobScheduler
from jobs.settings import JobSettings


def build_jobs(
    store: Store,
    llm: ChatModel,
    embedder: Embedder,
    settings: JobSettings | None = None,
    *,
    holder: str | None = None,
    clock: Callable[[], datetime] = utcnow,
    on_finished: Callable[[RunRecord], None] | None = None,
    approvals: ApprovalDesk | None = None,
) -> JobScheduler:
    """The scheduler of one process; live traffic pending in the inbox goes first. With
    ``approvals``, requests for approval nobody decided in time are expired too (and decisions
    a stop interrupted are told)."""
    settings = settings or JobSettings()
    runner = JobRunner(
        store,
        llm,
        settings,
        holder=holder,
        clock=clock,
        backlog=store.inbox.depth,
        on_finished=on_finished,
    )
    return JobScheduler(
        runner,
        [
            ConsolidationJob(store, embedder, settings, settings.consolidate_every_s),
            HygieneJob(store, embedder, settings, settings.hygiene_every_s),
            DigestJob(store, embedder, settings, settings.digest_every_s),
            RetentionJob(store, settings.recall_days, settings.retention_every_s),
            *([ApprovalUpkeepJob(approvals)] if approvals else []),
        ],
    )
