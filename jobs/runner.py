"""Runs a job's targets once across every replica sharing the store.

APScheduler's job stores cannot be shared between processes, so each replica schedules every
job itself and the store decides who works: a run first takes the lease ``job:<job>:<target>``
and then checks the target's recorded state, so a target settled in this cadence slot by any
replica is skipped. A run that crashed leaves the state "running"; once its lease expires the
next tick retries it. When the model fails, the target and the whole job back off.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from engine import ChatModel, LLMError, Store, forget_lost_sources, new_id, utcnow
from jobs.budget import BudgetedModel, BudgetExhausted, LiveBacklog
from jobs.history import SETTLED, JobBackoff, JobHistory, RunRecord, RunStatus, TargetState
from jobs.job import Job, RunContext, Target
from jobs.settings import JobSettings

log = logging.getLogger(__name__)


class LeaseLost(Exception):
    """Another replica took the run's lease (this one stalled past its expiry)."""


class JobRunner:
    """Runs due targets under leases, records every run, and applies limits and backoff."""

    def __init__(
        self,
        store: Store,
        llm: ChatModel,
        settings: JobSettings,
        *,
        holder: str | None = None,
        clock: Callable[[], datetime] = utcnow,
        backlog: LiveBacklog | None = None,
        on_finished: Callable[[RunRecord], None] | None = None,
    ) -> None:
        """``on_finished`` hears of every recorded run (metrics)."""
        self._store = store
        self._on_finished = on_finished
        self._llm = llm
        self._settings = settings
        self.holder = holder or new_id()
        self._clock = clock
        self._backlog = backlog
        self.history = JobHistory(store.jobs)
        self._slots = asyncio.Semaphore(settings.concurrency)
        self._running: set[str] = set()

    @property
    def settings(self) -> JobSettings:
        return self._settings

    async def run_job(self, job: Job[Any], *, force: bool = False) -> list[RunRecord]:
        """Run every due target of ``job`` (``force``: also those settled this slot)."""
        now = self._clock()
        if not force:
            backoff = await self.history.backoff(job.name)
            if backoff is not None and backoff.retry_at > now:
                return []
        targets = await job.targets(now)
        slot = int(now.timestamp() // job.cadence_s)
        records: list[RunRecord] = []
        model_down = asyncio.Event()

        async def run_one(target: Target[Any]) -> None:
            async with self._slots:
                if model_down.is_set():
                    return
                try:
                    record = await self._run_target(job, target, slot, force=force)
                except Exception:
                    log.exception("job %s: target %s could not be run", job.name, target.key)
                    return
            if record is not None:
                records.append(record)
                if record.error.startswith(_MODEL_FAILED):
                    model_down.set()

        async with asyncio.TaskGroup() as group:
            for target in targets:
                group.create_task(run_one(target))
        await self._update_backoff(job.name, records, model_down.is_set())
        await self.history.prune(job.name, self._settings.history_per_job)
        return sorted(records, key=lambda r: r.started_at)

    async def _run_target(
        self, job: Job[Any], target: Target[Any], slot: int, *, force: bool
    ) -> RunRecord | None:
        lease = f"job:{job.name}:{target.key}"
        if lease in self._running:
            return None
        if not await self._store.leases.acquire(lease, self.holder, self._settings.lease_s):
            return None
        self._running.add(lease)
        try:
            return await self._run_leased(job, target, slot, lease, force=force)
        finally:
            self._running.discard(lease)
            await self._store.leases.release(lease, self.holder)

    async def _run_leased(
        self, job: Job[Any], target: Target[Any], slot: int, lease: str, *, force: bool
    ) -> RunRecord | None:
        state = await self.history.state(job.name, target.key)
        now = self._clock()
        attempt = self._attempt(state, slot, now, force=force)
        if attempt is None:
            return None
        record = target.new_run(job.name, self.holder, attempt, now)
        if not await self.history.claim(record, slot, state):
            return None  # another run claimed the target since its state was read
        if state is not None and state.status is RunStatus.RUNNING:
            # We hold the lease, so the run that left this state lost its own: it crashed.
            await self.history.mark_crashed(state, now)
        await self.history.save_run(record)
        model = BudgetedModel(
            self._llm,
            self._settings.token_budget,
            backlog=self._backlog,
            yield_s=self._settings.yield_to_live_s,
        )
        status, detail, error, retry_at = RunStatus.OK, "", "", None
        try:
            detail = await self._heartbeat(lease, self._run_job(job, target, model, now))
        except BudgetExhausted as exc:
            status, detail = RunStatus.OVER_BUDGET, str(exc)
        except asyncio.CancelledError:
            status, error, retry_at = RunStatus.FAILED, "interrupted (shutdown)", now
            await self._finish(record, slot, status, model.used, detail, error, retry_at)
            raise
        except LLMError as exc:
            status, error = RunStatus.FAILED, f"{_MODEL_FAILED}{exc}"
            retry_at = self._clock() + self._backoff(attempt)
        except Exception as exc:
            log.exception("job %s failed on %s", job.name, target.key)
            status, error = RunStatus.FAILED, f"{type(exc).__name__}: {exc}"
            retry_at = self._clock() + self._backoff(attempt)
        return await self._finish(record, slot, status, model.used, detail, error, retry_at)

    async def _run_job(
        self, job: Job[Any], target: Target[Any], model: BudgetedModel, now: datetime
    ) -> str:
        """Run ``job`` on ``target``; then, also when it failed, forget what it wrote from
        messages forgotten or edited while it ran (``engine.forget_lost_sources``): such a forget
        found none of it, as it was not written yet."""
        ctx = RunContext(model, now)
        try:
            return await job.run(target.value, ctx)
        finally:
            if ctx.read:
                await forget_lost_sources(self._store, ctx.read.values())

    async def _finish(
        self,
        record: RunRecord,
        slot: int,
        status: RunStatus,
        tokens: int,
        detail: str,
        error: str,
        retry_at: datetime | None,
    ) -> RunRecord:
        done = replace(
            record,
            status=status,
            ended_at=self._clock(),
            tokens=tokens,
            detail=detail,
            error=error,
        )
        await self.history.save_run(done)
        if self._on_finished is not None:
            self._on_finished(done)
        settled = TargetState(
            slot, status, record.attempt, record.key, record.workspace, record.scope, retry_at
        )
        if not await self.history.settle(record, settled):
            log.warning(
                "job %s: target %s was taken over by another run", record.job, record.target
            )
        return done

    def _attempt(
        self, state: TargetState | None, slot: int, now: datetime, *, force: bool
    ) -> int | None:
        """The attempt number this run would be, or None when the target is not due."""
        if state is None:
            return 1
        same_slot = state.slot == slot
        if state.status in SETTLED:
            return 1 if force or not same_slot else None
        if force or not same_slot:
            return 1
        if state.retry_at is not None and now < state.retry_at:
            return None
        if state.attempts >= self._settings.max_attempts:
            return None
        return state.attempts + 1

    def _backoff(self, failures: int) -> timedelta:
        seconds = self._settings.backoff_s * 2.0 ** max(0, failures - 1)
        return timedelta(seconds=min(seconds, self._settings.max_backoff_s))

    async def _update_backoff(
        self, job: str, records: Sequence[RunRecord], model_down: bool
    ) -> None:
        if model_down:
            previous = await self.history.backoff(job)
            failures = (previous.failures if previous else 0) + 1
            retry_at = self._clock() + self._backoff(failures)
            log.warning("job %s: the model is failing; next try after %s", job, retry_at)
            await self.history.set_backoff(job, JobBackoff(failures, retry_at))
        elif any(r.status in SETTLED for r in records):
            await self.history.clear_backoff(job)

    async def _heartbeat(self, lease: str, work: Coroutine[Any, Any, str]) -> str:
        """Run ``work`` while renewing its lease; stop it when the lease is lost."""
        ttl = self._settings.lease_s
        task = asyncio.ensure_future(work)
        try:
            while True:
                done, _ = await asyncio.wait({task}, timeout=ttl / 3)
                if done:
                    return task.result()
                if not await self._store.leases.renew(lease, self.holder, ttl):
                    raise LeaseLost(f"lease {lease} was taken over")
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task


_MODEL_FAILED = "model unavailable: "
