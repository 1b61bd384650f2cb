"""The in-process scheduler: APScheduler's ``AsyncIOScheduler`` ticking every job.

Every replica runs one; ticks are aligned to a shared epoch so replicas fire in the same
cadence slot, and ``JobRunner`` makes each target's run happen once among them. Ticks run as
tasks this scheduler owns, so ``stop`` waits for them and nothing is lost silently.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from jobs.history import JobHistory, RunRecord
from jobs.job import Job
from jobs.runner import JobRunner

log = logging.getLogger(__name__)

#: Interval triggers start here, so every replica's ticks fall on the same instants.
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_STOP_TIMEOUT_S = 10.0


class JobScheduler:
    """Schedules ``jobs`` on ``runner``; ``run_now`` runs one at once (CLI, tests)."""

    def __init__(self, runner: JobRunner, jobs: Sequence[Job[Any]]) -> None:
        self.runner = runner
        self.jobs = {job.name: job for job in jobs}
        self._scheduler: AsyncIOScheduler | None = None
        self._ticks: dict[str, asyncio.Task[list[RunRecord]]] = {}

    @property
    def names(self) -> tuple[str, ...]:
        """The scheduled jobs' names, sorted."""
        return tuple(sorted(self.jobs))

    @property
    def history(self) -> JobHistory:
        """Every job's recorded runs."""
        return self.runner.history

    @property
    def running(self) -> bool:
        return self._scheduler is not None

    def start(self) -> None:
        """Start ticking (inside the running event loop)."""
        if self._scheduler is not None:
            return
        scheduler = AsyncIOScheduler(event_loop=asyncio.get_running_loop(), timezone=UTC)
        for job in self.jobs.values():
            scheduler.add_job(
                self._tick,
                IntervalTrigger(seconds=job.cadence_s, start_date=_EPOCH, timezone=UTC),
                args=(job.name,),
                id=job.name,
                coalesce=True,
                max_instances=1,
                misfire_grace_time=max(1, int(job.cadence_s)),
            )
        scheduler.start()
        self._scheduler = scheduler

    async def stop(self) -> None:
        """Stop ticking and end runs in progress (they are recorded as interrupted)."""
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        ticks = list(self._ticks.values())
        for task in ticks:
            task.cancel()
        if ticks:
            await asyncio.wait(ticks, timeout=_STOP_TIMEOUT_S)

    async def _tick(self, name: str) -> None:
        """APScheduler's callback (a coroutine, so it runs on the loop, not in a thread):
        start a tick unless the previous one still runs."""
        if name in self._ticks:
            log.info("job %s: previous run still in progress; skipping this tick", name)
            return
        task = asyncio.get_running_loop().create_task(self.run_now(name, force=False))
        self._ticks[name] = task
        task.add_done_callback(lambda t: self._tick_done(name, t))

    def _tick_done(self, name: str, task: asyncio.Task[list[RunRecord]]) -> None:
        self._ticks.pop(name, None)
        if not task.cancelled() and task.exception() is not None:
            log.error("job %s tick failed", name, exc_info=task.exception())

    async def run_now(self, name: str, *, force: bool = True) -> list[RunRecord]:
        """Run one job's due targets now; ``force`` also reruns those done this slot."""
        job = self.jobs.get(name)
        if job is None:
            raise KeyError(f"there is no job called {name!r}; jobs: {', '.join(self.jobs)}")
        return await self.runner.run_job(job, force=force)
