"""Waiting until an accepted message is settled: its turn applied and its replies delivered."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from engine.records import Outbound
from engine.store.state import JournalEntry


class SettleWatch:
    """In-process notifications; ``Engine.wait_settled`` adds a store poll for the rest."""

    def __init__(self) -> None:
        self._waiters: dict[str, list[asyncio.Future[None]]] = {}
        #: Turn head -> (its items, replies not yet settled).
        self._open: dict[str, tuple[tuple[str, ...], set[str]]] = {}

    def waiter(self, item_id: str) -> asyncio.Future[None]:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(item_id, []).append(future)
        return future

    def discard(self, item_id: str, future: asyncio.Future[None]) -> None:
        futures = self._waiters.get(item_id, [])
        if future in futures:
            futures.remove(future)
        if not futures:
            self._waiters.pop(item_id, None)

    def head_of(self, item_id: str) -> str:
        """The turn an item was folded into, when applied here with replies to deliver (the
        item itself otherwise): that turn's replies are the item's."""
        for head, (items, _) in self._open.items():
            if item_id in items:
                return head
        return item_id

    def settled_elsewhere(self, head: str) -> None:
        """Another process delivered the turn's replies."""
        batch = self._open.pop(head, None)
        if batch is not None:
            self._settle(batch[0])

    def applied(self, entry: JournalEntry, delivered: bool) -> None:
        if delivered or not entry.replies:
            self._settle(entry.items)
        else:
            self._open[entry.head] = (entry.items, {r.id for r in entry.replies})

    def reply_settled(self, reply: Outbound) -> None:
        batch = self._open.get(reply.inbox_id)
        if batch is None:
            return
        items, waiting = batch
        waiting.discard(reply.id)
        if not waiting:
            del self._open[reply.inbox_id]
            self._settle(items)

    def _settle(self, items: Iterable[str]) -> None:
        for item_id in items:
            for future in self._waiters.pop(item_id, []):
                if not future.done():
                    future.set_result(None)
