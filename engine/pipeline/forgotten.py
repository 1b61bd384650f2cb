"""Forgets that landed while a turn ran, redone once the turn is written.

A forget marks the pending items of its workspace before it looks for what to remove
(``engine.store.forget_marks``); the write that settles a turn returns its items' marks. What
that turn stored may come from what was forgotten (the forgotten person's message itself, a
block line quoting them, a reply), so the forget runs again, now that it can find it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from engine.store.queues import AppliedTurn, InboxStore

log = logging.getLogger(__name__)

#: Marked items read per round of ``sweep``.
SWEEP_BATCH = 100


class ForgetAgain(Protocol):
    async def redo_forgets(self, marks: Sequence[str]) -> None:
        """Forget again what each mark (``ForgetMark.encode``) names, without marking."""


@dataclass(frozen=True, slots=True)
class ForgetsRedone:
    """Redoes the forgets a turn's items were marked with, then drops the marks."""

    inbox: InboxStore
    forgets: ForgetAgain

    async def after(self, applied: AppliedTurn) -> None:
        """Redo the forgets that landed while ``applied``'s turn ran; a failure leaves the
        marks for ``sweep``."""
        if not applied.forgotten:
            return
        try:
            await self.forgets.redo_forgets(applied.forgotten)
        except Exception:
            log.exception("redoing a forget after turn %s failed", applied.entry.head)
            return
        await self.inbox.clear_marks(applied.entry.items)

    async def sweep(self) -> int:
        """Redo the forgets left undone after their turn was written (its process stopped
        first, or ``after`` failed); how many items' marks were. An item whose forgets fail
        again keeps its marks for the next sweep, and holds up none of the others read with
        it."""
        redone = 0
        while batch := await self.inbox.marked(SWEEP_BATCH):
            cleared = 0
            for item in batch:
                try:
                    await self.forgets.redo_forgets(item.marks)
                except Exception:
                    log.exception("redoing the forgets marked on %s failed", item.item_id)
                    continue
                await self.inbox.clear_marks([item.item_id])
                cleared += 1
            redone += cleared
            if cleared < len(batch):
                break  # the failed ones would be read again first
        return redone
