"""A held lease is confirmed before a commit: without asking the store while it is fresh, and
by renewing it once it is older than half its ttl."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest

from engine.pipeline import HeldLease, LeaseLost
from engine.store.queues import LeaseGrant


@dataclass
class CountingLeases:
    """A lease store that remembers the holder and counts the renewals asked of it."""

    holder: str = ""
    renewals: int = 0
    taken_by_other: bool = False
    calls: list[str] = field(default_factory=list)

    async def acquire(self, name: str, holder: str, ttl: float) -> bool:
        return await self.take(name, holder, ttl) is not LeaseGrant.REFUSED

    async def take(self, name: str, holder: str, ttl: float) -> LeaseGrant:
        self.calls.append("take")
        self.holder = holder
        return LeaseGrant.FREE

    async def renew(self, name: str, holder: str, ttl: float) -> bool:
        self.calls.append("renew")
        self.renewals += 1
        return not self.taken_by_other and self.holder == holder

    async def release(self, name: str, holder: str) -> bool:
        self.calls.append("release")
        return False


async def test_a_fresh_lease_is_confirmed_without_asking_the_store() -> None:
    leases = CountingLeases()
    lease = HeldLease(leases, "conversation:c1", "me", ttl=30.0)
    assert await lease.acquire()
    await lease.confirm()
    assert leases.calls == ["take"]


async def test_a_lease_older_than_half_its_ttl_is_renewed_and_a_lost_one_refused() -> None:
    leases = CountingLeases()
    lease = HeldLease(leases, "conversation:c1", "me", ttl=0.2)
    assert await lease.acquire()
    await asyncio.sleep(0.15)
    await lease.confirm()
    assert leases.renewals == 1

    await asyncio.sleep(0.15)
    leases.taken_by_other = True
    with pytest.raises(LeaseLost):
        await lease.confirm()
