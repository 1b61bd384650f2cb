"""What the agent is doing, step by step, for the platform that shows it ("searching memory…").

The pipeline worker names, for the turn it runs, where steps are shown (``reporting_steps``);
each tool says its step (``report_step``) as it starts. Background passes run with no reporter,
so their steps go nowhere. Showing a step is best effort: it never fails or stalls a turn. The
tool does not wait for the platform: one sender per turn shows its steps in order, a step
still waiting when a newer one (or the reply) comes is dropped for it, and the sender is
stopped before the turn ends, so no step shows after the turn's reply.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextvars import ContextVar

log = logging.getLogger(__name__)

type StepReporter = Callable[[str], Awaitable[None]]

#: A platform gets this long to show one step before the sender moves on.
STEP_TIMEOUT_S = 1.0


class StepSender:
    """Shows one turn's steps through ``reporter``, one call at a time and in order."""

    def __init__(self, reporter: StepReporter) -> None:
        self._reporter = reporter
        #: The newest step not yet sent (older ones waiting were superseded by it).
        self._waiting: str | None = None
        #: The step the platform shows now: showing it again is skipped.
        self._shown: str | None = None
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None

    def show(self, label: str) -> None:
        """Send ``label`` after the step on its way, in place of any step still waiting."""
        self._waiting = label
        self._idle.clear()
        self._wake.set()
        if self._task is None:
            self._task = asyncio.create_task(self._send(), name=f"steps:{label}")

    async def landed(self, wait_s: float) -> None:
        """Wait (at most ``wait_s``) until every step shown so far reached the platform."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait_s):
                await self._idle.wait()

    async def supersede(self, wait_s: float) -> None:
        """What shows next takes the steps' place: drop the step still waiting, and let the
        one on its way land (at most ``wait_s``)."""
        self._waiting = None
        self._wake.set()
        await self.landed(wait_s)

    async def aclose(self, wait_s: float) -> None:
        """``supersede``, then stop: nothing is shown after this returns."""
        await self.supersede(wait_s)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _send(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            label, self._waiting = self._waiting, None
            if label is not None and label != self._shown:
                self._shown = label
                try:
                    async with asyncio.timeout(STEP_TIMEOUT_S):
                        await self._reporter(label)
                except Exception:
                    log.debug("showing the step %r failed", label, exc_info=True)
            if self._waiting is None:
                self._idle.set()


_sender: ContextVar[StepSender | None] = ContextVar("step_sender", default=None)


@contextlib.asynccontextmanager
async def reporting_steps(reporter: StepReporter) -> AsyncIterator[StepSender]:
    """Steps reported inside this block (by this task and the tasks it starts) go to
    ``reporter``; on leaving, the step on its way lands and the rest are dropped."""
    sender = StepSender(reporter)
    token = _sender.set(sender)
    try:
        yield sender
    finally:
        _sender.reset(token)
        await sender.aclose(STEP_TIMEOUT_S)


async def report_step(label: str) -> None:
    """Show ``label`` where the current turn's steps are shown; nothing when none is.
    Returns at once: the turn's sender shows it."""
    sender = _sender.get()
    if sender is not None and label:
        sender.show(label)


async def supersede_steps(wait_s: float = STEP_TIMEOUT_S) -> None:
    """The current turn's reply shows next: a step still waiting is not shown, and the one on
    its way lands first (at most ``wait_s``), so no step shows after the reply's text."""
    sender = _sender.get()
    if sender is not None:
        await sender.supersede(wait_s)
