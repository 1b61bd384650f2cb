"""Outbox delivery: every recorded reply reaches its platform once, in order per conversation.

A reply is claimed on its outbox entry for a short while (so two processes never post it at
the same time; the claim reads the entry as it is, since another process may have delivered
it since it was listed), posted through the platform port, then marked delivered. A crash
between the platform's answer and the mark is the one window no store can close: the reply
is posted again after the restart, with the same ``Outbound.id``, which adapters pass to the
platform as its idempotency key (Discord nonce with ``enforce_nonce``, Slack
``client_msg_id``), so the user still sees it once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from engine.pipeline.context import PipelineContext
from engine.ports import DeliveryError
from engine.records import Outbound
from engine.store.queues import DeliveryClaim, OutboxEntry, OutboxStatus

log = logging.getLogger(__name__)

#: Replies listed per sweep of the outbox.
SWEEP_LIMIT = 200


def is_settled(entry: OutboxEntry) -> bool:
    """Delivered, or refused for good (nothing more will happen to it)."""
    return entry.status is not OutboxStatus.PENDING


@dataclass(eq=False)
class ReplyDelivery:
    pipeline: PipelineContext
    #: Told of each reply that reached its platform or was refused for good.
    on_settled: Callable[[Outbound], None]
    #: Conversations with a reply waiting for a retry: later replies wait behind it.
    _blocked: dict[str, datetime] = field(init=False, default_factory=dict)
    #: Replies this process is delivering right now (a claim is re-entrant for its holder).
    _claimed: set[str] = field(init=False, default_factory=set)
    _wake: asyncio.Event = field(init=False, default_factory=asyncio.Event)
    _slots: asyncio.Semaphore = field(init=False)

    def __post_init__(self) -> None:
        self._slots = asyncio.Semaphore(self.pipeline.settings.delivery_limit)

    def wake(self) -> None:
        self._wake.set()

    def claim_for(self, replies: Sequence[Outbound]) -> DeliveryClaim | None:
        """The claim a turn's new replies are written with when this process delivers them
        all next (None when another process serves one of their platforms)."""
        if not replies or any(reply.platform not in self.pipeline.ports for reply in replies):
            return None
        return DeliveryClaim(self.pipeline.holder, self._claim_ttl())

    @contextlib.contextmanager
    def reserved(self, replies: Iterable[Outbound]) -> Iterator[None]:
        """Keep this process's sweep off replies that its worker writes claimed and delivers
        itself (the claim is the same holder's, so the store would hand them out again)."""
        ids = {reply.id for reply in replies} - self._claimed
        self._claimed |= ids
        try:
            yield
        finally:
            self._claimed -= ids

    async def deliver_in_order(self, replies: Sequence[Outbound], *, claimed: bool = False) -> bool:
        """Deliver one turn's replies now, stopping at the first that must wait; True if all
        were settled. ``claimed``: they were written claimed by this process (``claim_for``,
        inside ``reserved``); the claims of those left undelivered are given back."""
        done = 0
        try:
            for reply in replies:
                settled = await (self._deliver_own(reply) if claimed else self._deliver(reply))
                if not settled:
                    return False
                done += 1
            return True
        finally:
            if claimed:
                await self._release_all(replies[done:])

    async def run(self) -> None:
        """Deliver due replies until cancelled: retries, and replies whose worker crashed."""
        while True:
            self._wake.clear()
            try:
                due = await self.pipeline.store.outbox.due(self.pipeline.clock(), SWEEP_LIMIT)
            except Exception:
                log.exception("listing due replies failed; retrying")
                due = []
            queues: dict[str, list[Outbound]] = {}
            for entry in due:
                queues.setdefault(str(entry.reply.conversation), []).append(entry.reply)
            progressed = False
            if queues:
                async with asyncio.TaskGroup() as group:
                    tasks = [group.create_task(self._deliver_queue(r)) for r in queues.values()]
                progressed = any(task.result() for task in tasks)
            if len(due) < SWEEP_LIMIT or not progressed:
                try:
                    async with asyncio.timeout(self.pipeline.settings.poll_interval):
                        await self._wake.wait()
                except TimeoutError:
                    pass

    async def _deliver_queue(self, replies: list[Outbound]) -> bool:
        async with self._slots:
            try:
                return await self.deliver_in_order(replies)
            except Exception:
                log.exception("delivering replies of %s failed", replies[0].conversation)
                return False

    def _claim_ttl(self) -> float:
        # The platform call is bounded by delivery_timeout; the writes around it get a lease's
        # worth. After a crash mid-delivery, the reply is retried once this expires.
        return self.pipeline.settings.delivery_timeout + self.pipeline.settings.lease_ttl

    async def _release_all(self, replies: Iterable[Outbound]) -> None:
        """Give back claims this process will not use now; one that cannot be given back runs
        out on its own."""
        try:
            for reply in replies:
                await self.pipeline.store.outbox.release(reply.id, self.pipeline.holder)
        except Exception:
            log.warning("giving back reply claims failed; they run out on their own", exc_info=True)

    async def _deliver_own(self, reply: Outbound) -> bool:
        """Deliver a reply this process wrote claimed, as new: nobody else has touched it."""
        if self._is_blocked(reply):
            return False
        return await self._deliver_claimed(reply, OutboxEntry(reply, OutboxStatus.PENDING))

    def _is_blocked(self, reply: Outbound) -> bool:
        """An earlier reply of its conversation waits for a retry: this one waits behind it."""
        conversation = str(reply.conversation)
        blocked_until = self._blocked.get(conversation)
        if blocked_until is None:
            return False
        if self.pipeline.clock() < blocked_until:
            return True
        del self._blocked[conversation]
        return False

    async def _deliver(self, reply: Outbound) -> bool:
        if reply.platform not in self.pipeline.ports:
            # Another process serves this platform (replicas may run different adapters):
            # leave the reply untouched for it, neither claimed nor pushed back.
            return False
        if self._is_blocked(reply) or reply.id in self._claimed:
            return False
        ttl = self._claim_ttl()
        outbox, holder = self.pipeline.store.outbox, self.pipeline.holder
        self._claimed.add(reply.id)
        try:
            # The claim reads the entry as it is now: another process may have settled it.
            entry = await outbox.claim(reply.id, holder, ttl)
            if entry is None:
                return False  # another process is delivering it
            if is_settled(entry):
                self.on_settled(reply)
                return True
            try:
                return await self._deliver_claimed(reply, entry)
            except BaseException:
                await outbox.release(reply.id, holder)
                raise
        finally:
            self._claimed.discard(reply.id)

    async def _deliver_claimed(self, reply: Outbound, entry: OutboxEntry) -> bool:
        """Post a claimed reply; every way out but an exception settles it, schedules its
        retry or gives the claim back."""
        now = self.pipeline.clock()
        if entry.next_attempt_at is not None and entry.next_attempt_at > now:
            await self.pipeline.store.outbox.release(reply.id, self.pipeline.holder)
            return False
        port = self.pipeline.ports[reply.platform]
        try:
            async with asyncio.timeout(self.pipeline.settings.delivery_timeout):
                platform_ref = await port.deliver(reply)
        except DeliveryError as exc:
            if exc.permanent:
                log.warning("reply %s refused for good by %s: %s", reply.id, reply.platform, exc)
                await self.pipeline.store.outbox.mark_undeliverable(reply.id, f"permanent: {exc}")
                self.on_settled(reply)
                return True
            await self._retry(reply, entry.attempts + 1, str(exc), exc.retry_after)
            return False
        except TimeoutError:
            await self._retry(reply, entry.attempts + 1, "the platform did not answer", None)
            return False
        except Exception as exc:
            log.exception("delivering reply %s failed", reply.id)
            await self._retry(reply, entry.attempts + 1, f"{type(exc).__name__}: {exc}", None)
            return False
        await self.pipeline.store.outbox.mark_delivered(reply.id, platform_ref)
        self.on_settled(reply)
        return True

    async def _retry(
        self, reply: Outbound, failures: int, error: str, retry_after: float | None
    ) -> None:
        delay = self.pipeline.settings.delivery_retry.delay(failures)
        if retry_after is not None:
            delay = max(delay, retry_after)
        at = self.pipeline.clock() + timedelta(seconds=delay)
        log.info("reply %s not delivered (%s); next attempt in %.1f s", reply.id, error, delay)
        self._blocked[str(reply.conversation)] = at
        await self.pipeline.store.outbox.retry_later(reply.id, at, error)
