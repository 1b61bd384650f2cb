"""A conversation lease held for as long as a worker serves it, renewed in the background."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from types import TracebackType
from typing import Self

from engine.store.queues import LeaseGrant, LeaseStore

log = logging.getLogger(__name__)

#: Seconds allowed for giving a lease back on the way out, even when cancelled.
RELEASE_TIMEOUT = 5.0


class LeaseLost(Exception):
    """Another process took the lease (ours expired): the work in hand must be abandoned."""


class HeldLease:
    """Renews a lease every third of its ttl while the owning task works inside ``async with``.

    When the lease is lost (renewal refused, or the store unreachable until it expired) the
    owning task is cancelled and ``LeaseLost`` raised from the ``async with``, the way
    ``asyncio.timeout`` does, so no write of the abandoned work happens after the loss.
    """

    def __init__(self, leases: LeaseStore, name: str, holder: str, ttl: float) -> None:
        self._leases = leases
        self.name = name
        self._holder = holder
        self._ttl = ttl
        self._valid_until = 0.0
        self._lost = False
        self._owner: asyncio.Task[object] | None = None
        self._renewer: asyncio.Task[None] | None = None
        #: Taken from a holder that stopped without giving it back, maybe mid-work.
        self.taken_over = False
        #: Another holder was refused the lease while it was held here (known once released).
        self.wanted = False

    async def acquire(self) -> bool:
        started = time.monotonic()
        grant = await self._leases.take(self.name, self._holder, self._ttl)
        self._valid_until = started + self._ttl
        self.taken_over = grant is LeaseGrant.TAKEN_OVER
        return grant is not LeaseGrant.REFUSED

    async def confirm(self) -> None:
        """Raise ``LeaseLost`` if the lease may no longer be ours (before a commit).

        Only an expired lease can be taken over: one taken or renewed less than half its ttl
        ago is still ours without asking (the half covers clocks that disagree across hosts);
        an older one is renewed now.
        """
        if self._lost:
            raise LeaseLost(f"lease {self.name} was lost while working")
        started = time.monotonic()
        if started < self._valid_until - self._ttl / 2:
            return
        if not await self._leases.renew(self.name, self._holder, self._ttl):
            self._lost = True
            raise LeaseLost(f"lease {self.name} was taken over")
        self._valid_until = started + self._ttl

    async def __aenter__(self) -> Self:
        self._owner = asyncio.current_task()
        self._renewer = asyncio.create_task(self._renew(), name=f"renew {self.name}")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer
        if not self._lost:
            await self._release()
        if (
            self._lost
            and exc_type is asyncio.CancelledError
            and self._owner is not None
            and self._owner.uncancel() == 0
        ):
            raise LeaseLost(f"lease {self.name} was lost while working") from exc

    async def _release(self) -> None:
        release = asyncio.ensure_future(self._leases.release(self.name, self._holder))
        try:
            async with asyncio.timeout(RELEASE_TIMEOUT):
                self.wanted = await asyncio.shield(release)
        except TimeoutError:
            log.warning("could not release lease %s; it expires in %.0f s", self.name, self._ttl)
        except asyncio.CancelledError:
            # Cancelled on the way out: the shielded release still completes on its own.
            raise
        except Exception:
            log.exception("releasing lease %s failed; it expires on its own", self.name)

    async def _renew(self) -> None:
        interval = self._ttl / 3
        while True:
            await asyncio.sleep(interval)
            started = time.monotonic()
            try:
                async with asyncio.timeout(interval):
                    renewed = await self._leases.renew(self.name, self._holder, self._ttl)
            except Exception as exc:
                log.warning("renewing lease %s failed: %s", self.name, exc)
                if time.monotonic() < self._valid_until - interval:
                    continue
                renewed = False
            if not renewed:
                log.warning("lease %s lost; abandoning the work in hand", self.name)
                self._lost = True
                if self._owner is not None:
                    self._owner.cancel()
                return
            self._valid_until = started + self._ttl
