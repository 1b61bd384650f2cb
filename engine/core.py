"""The engine's front door: adapters hand it messages; it answers each exactly once.

``receive`` stores a message in the durable inbox and returns at once; the pipeline
(``engine.pipeline``) runs turns per conversation in order and delivers replies through the
registered platform ports, surviving crashes and outages without losing or repeating a reply.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime

from engine.citations import PlatformLinks
from engine.forgetting import Forgetting, SettleSoon, merged
from engine.observer import EngineObserver, SilentObserver, Stage
from engine.pipeline import (
    ConversationWorker,
    Dispatcher,
    InboxAdmission,
    PipelineContext,
    PipelineSettings,
    ReplyDelivery,
    SettleWatch,
    is_settled,
)
from engine.pipeline.forgotten import ForgetsRedone
from engine.ports import PlatformPort, ReceiveOutcome, ReceiveResult
from engine.records import JSON, Inbound, InboundKind, Outbound, new_id, utcnow
from engine.search.hybrid import HybridSearch
from engine.sources.removal import message_taken_back, unshare
from engine.store.codec import encode
from engine.store.protocol import Store
from engine.store.queues import InboxItem, InboxStatus, OutboxStatus
from engine.turns import TurnRunner
from engine.user_data import UserDataService

log = logging.getLogger(__name__)

#: Seconds between store checks while waiting for a message handled by another process.
SETTLE_POLL = 0.25
#: Messages accepted here whose settling is heard from the moment they are stored, so waiting
#: for one needs no store read; past this many, the oldest are no longer watched.
WATCHED_RECEIPTS = 10_000


def default_holder() -> str:
    """This process's name on leases: unique across hosts, processes and restarts."""
    return f"{socket.gethostname()}:{os.getpid()}:{new_id()[:8]}"


class Engine:
    def __init__(
        self,
        store: Store,
        runner: TurnRunner,
        *,
        platforms: Iterable[PlatformPort] = (),
        worker_limit: int | None = None,
        lease_ttl: float | None = None,
        clock: Callable[[], datetime] = utcnow,
        settings: PipelineSettings | None = None,
        holder: str | None = None,
        observer: EngineObserver | None = None,
        links: PlatformLinks | None = None,
        search: HybridSearch | None = None,
    ) -> None:
        settings = settings or PipelineSettings()
        if worker_limit is not None:
            settings = replace(settings, worker_limit=worker_limit)
        if lease_ttl is not None:
            settings = replace(settings, lease_ttl=lease_ttl)
        self.settings = settings
        self.holder = holder or default_holder()
        self._store = store
        self._observer = observer or SilentObserver()
        self._ports: dict[str, PlatformPort] = {}
        #: The registered platforms' links, shared with whatever cites messages.
        self.links = links or PlatformLinks()
        self._admission = InboxAdmission(store.agents)
        self._settle_soon = SettleSoon(store)
        #: Embeds again the messages that followed one a platform deleted or edited.
        self._search = search
        self._settle = SettleWatch()
        self._watched: OrderedDict[str, asyncio.Future[None]] = OrderedDict()
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        pipeline = PipelineContext(store, self._ports, self.holder, settings, clock)
        self._delivery = ReplyDelivery(pipeline, self._settle.reply_settled)
        #: Forgets that landed while a turn ran are redone once it is written.
        self._forgets = ForgetsRedone(store.inbox, UserDataService(store, search))
        self._worker = ConversationWorker(
            pipeline, runner, self._delivery, self._settle.applied, self._observer, self._forgets
        )
        self._dispatcher = Dispatcher(
            store.inbox,
            lambda conversation: self._worker.serve(
                conversation, self._stopping, lambda: self._dispatcher.waiting > 0
            ),
            worker_limit=settings.worker_limit,
            poll_interval=settings.poll_interval,
        )
        for port in platforms:
            self.register_platform(port)

    # -- adapters -------------------------------------------------------------------------------

    def register_platform(self, port: PlatformPort) -> None:
        """Deliver replies for ``port.platform`` through ``port`` (replies waiting included),
        and cite its messages with its links when it gives them."""
        self._ports[port.platform] = port
        self.links.register(port)
        self._delivery.wake()

    async def receive(self, inbound: Inbound) -> ReceiveResult:
        """Store an accepted message and return at once; the reply follows through the port."""
        started = time.perf_counter()
        result = await self._receive(inbound)
        self._observer.stage_finished(Stage.RECEIVE, time.perf_counter() - started)
        return result

    async def _receive(self, inbound: Inbound) -> ReceiveResult:
        admission = await self._admission.admit(inbound)
        if admission.inbound is None:
            if (kept := admission.kept) is not None:
                await self._store.inbox.put_rejected(kept.platform, encode(kept), admission.reason)
            return ReceiveResult(ReceiveOutcome.REJECTED, reason=admission.reason)
        inbound = admission.inbound
        notes = "; ".join(admission.notes)
        if inbound.kind is not InboundKind.MESSAGE:
            return await self._apply_change(inbound)
        item = InboxItem.pending(inbound)
        if not await self._store.inbox.put(item):
            return ReceiveResult(ReceiveOutcome.DUPLICATE, reason="already received")
        self._watch(item.id)
        self._dispatcher.notify(item.conversation)
        return ReceiveResult(ReceiveOutcome.ACCEPTED, item.id, notes)

    async def reject(self, platform: str, raw: JSON, error: str) -> None:
        """Keep an event the adapter could not parse, with its error, for the operator."""
        log.warning("rejected %s event: %s", platform, error)
        await self._store.inbox.put_rejected(platform, raw, error)
        self._observer.event_rejected(platform, error)

    async def wait_settled(self, inbox_id: str) -> None:
        """Return once the message's turn is applied and its replies delivered (or refused for
        good). Wrap in a timeout: a platform outage makes this wait as long as it lasts."""
        future = self._watched.pop(inbox_id, None)
        watched = future is not None
        if future is None:
            future = self._settle.waiter(inbox_id)
        try:
            if watched:
                # Accepted here: this process hears it settle, unless another one runs it.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(SETTLE_POLL):
                        await asyncio.shield(future)
                        return
            while not await self._settled_in_store(inbox_id):
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(SETTLE_POLL):
                        await asyncio.shield(future)
                        return
        finally:
            self._settle.discard(inbox_id, future)

    async def delivered_replies(self, inbox_id: str) -> list[Outbound]:
        """The replies delivered for a settled message's turn, as stored: whichever process ran
        the turn. A message folded into an earlier one's turn elsewhere has its replies there."""
        entries = await self._store.outbox.for_inbox(self._settle.head_of(inbox_id))
        return [entry.reply for entry in entries if entry.status is OutboxStatus.DELIVERED]

    @property
    def running_turns(self) -> int:
        """Conversations this process is serving right now."""
        return self._dispatcher.running

    @property
    def waiting_conversations(self) -> int:
        """Conversations with known work waiting for a free worker in this process."""
        return self._dispatcher.waiting

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start serving conversations, delivering replies (pending ones included) and
        redoing the forgets left undone after their turns."""
        if self._tasks:
            return
        self._stopping.clear()
        self._tasks = [
            asyncio.create_task(self._dispatcher.run(), name="dispatcher"),
            asyncio.create_task(self._delivery.run(), name="reply delivery"),
            asyncio.create_task(self._redo_forgets(), name="redo forgets"),
        ]
        for task in self._tasks:
            task.add_done_callback(_log_failure)

    async def stop(self) -> None:
        """Take no new work, let running turns finish within the stop deadline (then cancel
        them; their items stay pending for the next start), release every lease."""
        if not self._tasks:
            return
        self._stopping.set()
        await self._dispatcher.drain(self.settings.stop_deadline)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        await self._settle_soon.flush()

    # -- internals ------------------------------------------------------------------------------

    async def _redo_forgets(self) -> None:
        """Redo the forgets left undone after the turns they landed in (a process stopped
        first, or a redo failed): at start, then every ``forget_sweep_interval``."""
        while True:
            try:
                if redone := await self._forgets.sweep():
                    log.info("redid the forgets left undone after %d turns", redone)
            except Exception:
                log.exception("redoing forgets left undone failed; trying again later")
            await asyncio.sleep(self.settings.forget_sweep_interval)

    async def _apply_change(self, inbound: Inbound) -> ReceiveResult:
        """Platform edits and deletions change stored recall, and drop what was derived from
        the old text (``engine.forgetting``); they start no turn."""
        forgetting = Forgetting(self._store, self._search)
        where = (inbound.workspace, inbound.channel, inbound.message_ref)
        if inbound.kind is InboundKind.EDIT:
            changed, report = await forgetting.platform_edit(*where, inbound.text)
        else:
            # The documents the message alone shared go with it (``engine.sources.removal``).
            unshared = await unshare(self._store, inbound.workspace, message_taken_back(*where[1:]))
            report = merged(await forgetting.platform_delete(*where), unshared)
            changed = report.messages
        if changed or report.total:
            self._settle_soon.request()
        return ReceiveResult(ReceiveOutcome.ACCEPTED, reason=f"{changed} stored copies changed")

    def _watch(self, inbox_id: str) -> None:
        """Hear when a message just accepted settles, should anyone wait for it."""
        future = self._settle.waiter(inbox_id)
        self._watched[inbox_id] = future
        future.add_done_callback(lambda _: self._watched.pop(inbox_id, None))
        if len(self._watched) > WATCHED_RECEIPTS:
            oldest, its_future = self._watched.popitem(last=False)
            self._settle.discard(oldest, its_future)

    async def _settled_in_store(self, inbox_id: str) -> bool:
        item = await self._store.inbox.get(inbox_id)
        if item is None or item.status is InboxStatus.PENDING:
            return item is None
        head = self._settle.head_of(inbox_id)
        if not all(is_settled(entry) for entry in await self._store.outbox.for_inbox(head)):
            return False
        self._settle.settled_elsewhere(head)
        return True


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and (error := task.exception()) is not None:
        log.error("%s stopped: %s", task.get_name(), error, exc_info=error)
