"""What the agent is doing, step by step, for the platform that shows it ("searching memory…").

The pipeline worker names, for the turn it runs, where steps are shown (``reporting_steps``);
each tool says its step (``report_step``) as it starts. Background passes run with no reporter,
so their steps go nowhere. Showing a step is best effort: it never fails or stalls a turn.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

log = logging.getLogger(__name__)

type StepReporter = Callable[[str], Awaitable[None]]

#: A platform gets this long to show a step before the tool runs anyway.
STEP_TIMEOUT_S = 1.0

_reporter: ContextVar[StepReporter | None] = ContextVar("step_reporter", default=None)


@contextmanager
def reporting_steps(reporter: StepReporter) -> Iterator[None]:
    """Steps reported inside this block (by this task and the tasks it starts) go to
    ``reporter``."""
    token = _reporter.set(reporter)
    try:
        yield
    finally:
        _reporter.reset(token)


async def report_step(label: str) -> None:
    """Show ``label`` where the current turn's steps are shown; nothing when none is."""
    reporter = _reporter.get()
    if reporter is None or not label:
        return
    try:
        async with asyncio.timeout(STEP_TIMEOUT_S):
            await reporter(label)
    except Exception:
        log.debug("showing the step %r failed", label, exc_info=True)
