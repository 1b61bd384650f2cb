"""One conversation's worker: pending items in arrival order, one turn at a time, under a lease.

Each turn goes: read the batch (with the outcome of an earlier run, if one was journalled) ->
run -> embed its messages -> apply the outcome (recall with embeddings, lineage links, outbox
replies claimed for this process, inbox marks with the attempt's number: one transaction
where the store has them) -> deliver -> redo the forgets that landed while it ran. A failed
attempt is counted as it fails, a crashed one when its lease is taken over, so a turn that
succeeds writes nothing before it ends but what its tools store as they run (block edits and
archival passages, each with its lineage; agent mail). The turn returns every other record
it produced; the worker is their only writer. Items that arrive while a turn runs are taken
by the next turn, folded together up to ``batch_limit``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field

from engine.observer import EngineObserver, SilentObserver, Stage, TurnEnd
from engine.pipeline.context import PipelineContext
from engine.pipeline.delivery import ReplyDelivery
from engine.pipeline.forgotten import ForgetsRedone
from engine.pipeline.leases import HeldLease
from engine.ports import StepPort
from engine.progress import reporting_steps
from engine.records import Agent, Inbound
from engine.search import HistoryRead
from engine.store.queues import AppliedTurn, DeliveryClaim, InboxItem, PendingBatch
from engine.store.state import JournalEntry, TurnOutcome
from engine.streaming import streaming_replies
from engine.turns import Replies, TurnResult, TurnRunner, user_message

log = logging.getLogger(__name__)

FAILED_REPLY = (
    "Sorry, something went wrong on my side and I couldn't answer your message. "
    "Please try again later; if it keeps happening, tell whoever runs this bot."
)


def lease_name(conversation: str) -> str:
    return f"conversation:{conversation}"


class TurnDeferred(Exception):
    """The turn failed and will be tried again after ``delay`` seconds."""

    def __init__(self, delay: float) -> None:
        super().__init__(f"retry in {delay:.1f} s")
        self.delay = delay


@dataclass(eq=False)
class ConversationWorker:
    pipeline: PipelineContext
    runner: TurnRunner
    delivery: ReplyDelivery
    #: Told of each turn applied, and whether all its replies were delivered.
    on_applied: Callable[[JournalEntry, bool], None]
    observer: EngineObserver = field(default_factory=SilentObserver)
    #: Redoes the forgets that landed while a turn ran, once it is written and delivered.
    forgets: ForgetsRedone | None = None

    async def serve(
        self, conversation: str, stopping: asyncio.Event, others_waiting: Callable[[], bool]
    ) -> bool:
        """Run the conversation's pending turns until none is left, the engine stops, or other
        conversations wait for a worker (fairness). True when it should be served again."""
        store, settings = self.pipeline.store, self.pipeline.settings
        lease = HeldLease(
            store.leases, lease_name(conversation), self.pipeline.holder, settings.lease_ttl
        )
        if not await lease.acquire():
            return False  # another process serves it, and hears we asked when it lets go
        async with lease:
            again = await self._serve_held(conversation, lease, stopping, others_waiting)
        # Another process was refused the lease meanwhile: it has items waiting for it.
        return again or lease.wanted

    async def _serve_held(
        self,
        conversation: str,
        lease: HeldLease,
        stopping: asyncio.Event,
        others_waiting: Callable[[], bool],
    ) -> bool:
        """The turns of ``serve`` while the lease is held.

        After a turn that closed every item read, the inbox is not read again: items
        received here since were announced to the dispatcher (which serves the conversation
        again), and a process that received one asked for the lease (``lease.wanted``);
        anything else is found by the inbox poll.
        """
        store, settings = self.pipeline.store, self.pipeline.settings
        # The lease's last holder stopped without giving it back, maybe in the middle of
        # this batch's turn: that attempt counts.
        crashed = lease.taken_over
        while not stopping.is_set():
            batch = await store.turns.pending(conversation, settings.batch_limit)
            if not batch.items:
                return False
            try:
                closed = await self._turn(batch, lease, crashed=crashed)
            except TurnDeferred as deferred:
                closed = False
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(deferred.delay):
                        await stopping.wait()
            crashed = False
            if others_waiting():
                return True
            if closed and len(batch.items) < settings.batch_limit:
                return False
        return False

    async def _turn(self, batch: PendingBatch, lease: HeldLease, *, crashed: bool) -> bool:
        """Run (or apply the journalled outcome of) one batch and deliver its replies; True
        when the outcome closed every item of the batch."""
        started = time.perf_counter()
        end = TurnEnd.INTERRUPTED
        try:
            entry, seen, attempt = batch.journalled, None, 0
            if entry is None:
                with self._timed(Stage.TURN):
                    entry, seen, attempt = await self._run(batch.items, batch.agent, crashed)
                await lease.confirm()
            journalled = batch.journalled is not None
            # A fresh outcome's replies are new: written claimed by this process, which
            # delivers them next without claiming them again.
            claim = None if journalled else self.delivery.claim_for(entry.replies)
            with self.delivery.reserved(entry.replies if claim else ()):
                with self._timed(Stage.APPLY):
                    written = await self._apply(
                        entry, seen, journalled=journalled, claim=claim, attempt=attempt
                    )
                applied = written.entry
                end = TurnEnd.DONE if applied.outcome is TurnOutcome.DONE else TurnEnd.FAILED
                with self._timed(Stage.DELIVER):
                    delivered = await self.delivery.deliver_in_order(
                        applied.replies, claimed=claim is not None and applied == entry
                    )
            if self.forgets is not None:
                await self.forgets.after(written)
            self.on_applied(applied, delivered)
            return set(applied.items) >= {item.id for item in batch.items}
        except TurnDeferred:
            end = TurnEnd.RETRIED
            raise
        finally:
            self.observer.turn_finished(end, time.perf_counter() - started)

    @contextlib.contextmanager
    def _timed(self, stage: Stage) -> Iterator[None]:
        started = time.perf_counter()
        yield
        self.observer.stage_finished(stage, time.perf_counter() - started)

    async def _run(
        self, items: Sequence[InboxItem], agent: Agent | None, crashed: bool
    ) -> tuple[JournalEntry, HistoryRead | None, int]:
        """The turn's outcome, with what its context read found of the conversation and the
        attempt's number (failed attempts are counted as they fail, and a crashed one when
        its lease is taken over: ``crashed``)."""
        head = items[0]
        store, settings = self.pipeline.store, self.pipeline.settings
        attempts = head.attempts
        if crashed:
            attempts = await store.inbox.record_attempt(head.id)
        attempts += 1
        if attempts > settings.max_attempts:
            error = head.error or f"gave up after {attempts - 1} attempts"
            return self._failed(items, error), None, attempts
        try:
            port = self.pipeline.ports.get(items[-1].inbound.platform)
            async with asyncio.timeout(settings.turn_timeout):
                async with (
                    self._working(items),
                    streaming_replies(port, items, self.pipeline.clock) as streams,
                ):
                    result = await self.runner.run(items, agent)
                    if streams is not None:
                        await streams.settle(result.replies, settings.delivery_timeout)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            log.exception("turn for %s failed (attempt %d)", head.id, attempts)
            if attempts >= settings.max_attempts:
                return self._failed(items, error), None, attempts
            await store.inbox.record_failure(head.id, error)
            raise TurnDeferred(settings.turn_retry.delay(attempts)) from exc
        if result.failure:
            return self._failed(items, result.failure, result), result.seen, attempts
        return self._done(items, result), result.seen, attempts

    def _done(self, items: Sequence[InboxItem], result: TurnResult) -> JournalEntry:
        return _entry(items, TurnOutcome.DONE, result)

    def _failed(
        self, items: Sequence[InboxItem], error: str, result: TurnResult | None = None
    ) -> JournalEntry:
        """A turn given up on: its messages are kept, and whoever asked hears it failed (in
        the turn's own words, when the turn could say why)."""
        if result is None:
            replies = Replies.for_items(items, self.pipeline.clock)
            if any(item.inbound.respond for item in items):
                replies.add(FAILED_REPLY)
            result = TurnResult(tuple(user_message(item) for item in items), replies.sent)
        return _entry(items, TurnOutcome.FAILED, result, error)

    async def _apply(
        self,
        entry: JournalEntry,
        seen: HistoryRead | None,
        *,
        journalled: bool,
        claim: DeliveryClaim | None,
        attempt: int,
    ) -> AppliedTurn:
        """Write the outcome with its messages' embeddings (the batch's first journalled
        outcome wins: its messages are embedded after). ``seen`` is what the turn read of its
        conversation, where it ran in this process."""
        store = self.pipeline.store
        embeddings = await self._embeddings(entry, seen)
        applied = await store.turns.apply(
            entry, journalled=journalled, embeddings=embeddings, claim=claim, attempt=attempt
        )
        if applied.entry != entry:
            await store.messages.set_embeddings(await self._embeddings(applied.entry))
        return applied

    async def _embeddings(
        self, entry: JournalEntry, seen: HistoryRead | None = None
    ) -> Sequence[tuple[str, Sequence[float]]]:
        """The vectors of the turn's messages; when embedding fails they stay findable by
        their words."""
        if not entry.messages:
            return ()
        try:
            return await self.runner.message_embeddings(entry.messages, seen)
        except Exception:
            log.warning("indexing the messages of turn %s failed", entry.head, exc_info=True)
            return ()

    @contextlib.asynccontextmanager
    async def _working(self, items: Sequence[InboxItem]) -> AsyncIterator[None]:
        """The platform's "working" sign while the turn runs; its failures never fail a turn."""
        inbound: Inbound = items[-1].inbound
        port = self.pipeline.ports.get(inbound.platform)
        if port is None or not any(item.inbound.respond for item in items):
            yield
            return
        async with contextlib.AsyncExitStack() as stack:
            try:
                await stack.enter_async_context(port.working(inbound))
            except Exception:
                log.warning("showing work on %s failed", inbound.platform, exc_info=True)
            if isinstance(port, StepPort):
                steps = reporting_steps(functools.partial(port.show_step, inbound))
                await stack.enter_async_context(steps)
            yield


def _entry(
    items: Sequence[InboxItem], outcome: TurnOutcome, result: TurnResult, error: str = ""
) -> JournalEntry:
    """What applying the turn of ``items`` writes, kept under the batch's first item."""
    return JournalEntry(
        head=items[0].id,
        items=tuple(item.id for item in items),
        outcome=outcome,
        messages=result.messages,
        replies=result.replies,
        error=error,
        links=result.links,
    )
