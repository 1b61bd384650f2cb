"""Decides which conversations this process serves: woken on receive, polling as a fallback.

Receives in this process wake it at once; a poll of the inbox finds work written by other
processes and work whose worker crashed. At most ``worker_limit`` conversations run at once;
one conversation never has two workers here (and, through its lease, nowhere).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import KW_ONLY, dataclass, field
from typing import Any

from engine.store.queues import InboxStore

log = logging.getLogger(__name__)

#: Conversations listed per poll, as a multiple of the worker limit (some may be held elsewhere).
POLL_BREADTH = 4


@dataclass(eq=False)
class Dispatcher:
    inbox: InboxStore
    #: Serves one conversation; True when it should be served again.
    serve: Callable[[str], Coroutine[Any, Any, bool]]
    _: KW_ONLY
    worker_limit: int
    poll_interval: float
    #: Conversations to look at, oldest request first (a dict as an ordered set).
    _wanted: dict[str, None] = field(init=False, default_factory=dict)
    #: Conversations notified while their worker was running: look again when it ends.
    _again: set[str] = field(init=False, default_factory=set)
    _running: dict[str, asyncio.Task[bool]] = field(init=False, default_factory=dict)
    _wake: asyncio.Event = field(init=False, default_factory=asyncio.Event)
    _accepting: bool = field(init=False, default=True)

    @property
    def running(self) -> int:
        return len(self._running)

    @property
    def waiting(self) -> int:
        """Conversations with work known to this process that wait for a free worker."""
        return len(self._wanted)

    def notify(self, conversation: str) -> None:
        if conversation in self._running:
            self._again.add(conversation)
        else:
            self._wanted[conversation] = None
        self._wake.set()

    async def run(self) -> None:
        """Start workers until cancelled."""
        next_poll = 0.0
        self._accepting = True
        while self._accepting:
            self._wake.clear()
            if time.monotonic() >= next_poll:
                await self._poll()
                next_poll = time.monotonic() + self.poll_interval
            self._start_wanted()
            try:
                async with asyncio.timeout(max(0.0, next_poll - time.monotonic())):
                    await self._wake.wait()
            except TimeoutError:
                pass

    async def drain(self, deadline: float) -> None:
        """Start nothing new; let running workers finish within ``deadline`` seconds, then
        cancel the rest (their leases are released on the way out)."""
        self._accepting = False
        tasks = list(self._running.values())
        if not tasks:
            return
        _, late = await asyncio.wait(tasks, timeout=deadline)
        for task in late:
            task.cancel()
        if late:
            log.warning("%d turns did not finish within %.0f s; cancelled", len(late), deadline)
            await asyncio.wait(late, timeout=deadline)

    async def _poll(self) -> None:
        try:
            conversations = await self.inbox.pending_conversations(self.worker_limit * POLL_BREADTH)
        except Exception:
            log.exception("polling the inbox failed; retrying")
            return
        for conversation in conversations:
            if conversation not in self._running:
                self._wanted[conversation] = None

    def _start_wanted(self) -> None:
        for conversation in list(self._wanted):
            if len(self._running) >= self.worker_limit or not self._accepting:
                return
            del self._wanted[conversation]
            if conversation in self._running:
                self._again.add(conversation)
                continue
            task = asyncio.create_task(self.serve(conversation), name=f"serve {conversation}")
            self._running[conversation] = task
            task.add_done_callback(functools.partial(self._finished, conversation))

    def _finished(self, conversation: str, task: asyncio.Task[bool]) -> None:
        self._running.pop(conversation, None)
        more = False
        if not task.cancelled():
            if (error := task.exception()) is not None:
                log.error("serving %s failed: %s", conversation, error, exc_info=error)
            else:
                more = task.result()
        if more or conversation in self._again:
            self._again.discard(conversation)
            self._wanted[conversation] = None
        self._wake.set()
