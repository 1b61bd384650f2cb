"""Leases that serialise a conversation (or a scheduled job) across processes.

Taking a lease is one atomic upsert whose filter matches only a free, expired or own lease;
when another holder's live lease exists the upsert collides with its ``_id`` instead.
"""

from __future__ import annotations

from datetime import timedelta

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from engine.records import utcnow
from engine.store.mongo._documents import Collection
from engine.store.queues import LeaseGrant


class MongoLeases:
    def __init__(self, collection: Collection) -> None:
        self._leases = collection

    async def acquire(self, name: str, holder: str, ttl: float) -> bool:
        return await self.take(name, holder, ttl) is not LeaseGrant.REFUSED

    async def take(self, name: str, holder: str, ttl: float) -> LeaseGrant:
        grant = await self._take(name, holder, ttl)
        if grant is not None:
            return grant
        # Refused: note it on the live lease. When that finds no lease, it was just given
        # back: take it now (once; a second refusal is final).
        noted = await self._leases.update_one(
            {"_id": name, "holder": {"$ne": holder}}, {"$set": {"wanted": True}}
        )
        if noted.matched_count:
            return LeaseGrant.REFUSED
        return await self._take(name, holder, ttl) or LeaseGrant.REFUSED

    async def _take(self, name: str, holder: str, ttl: float) -> LeaseGrant | None:
        """One atomic upsert: the lease as it was before, or None when refused."""
        now = utcnow()
        try:
            before = await self._leases.find_one_and_update(
                {"_id": name, "$or": [{"expires_at": {"$lte": now}}, {"holder": holder}]},
                {
                    "$set": {
                        "holder": holder,
                        "expires_at": now + timedelta(seconds=ttl),
                        "wanted": False,
                    }
                },
                upsert=True,
                return_document=ReturnDocument.BEFORE,
            )
        except DuplicateKeyError:
            return None
        if before is None or before["holder"] == holder:
            return LeaseGrant.FREE
        return LeaseGrant.TAKEN_OVER

    async def renew(self, name: str, holder: str, ttl: float) -> bool:
        result = await self._leases.update_one(
            {"_id": name, "holder": holder},
            {"$set": {"expires_at": utcnow() + timedelta(seconds=ttl)}},
        )
        return result.matched_count == 1

    async def release(self, name: str, holder: str) -> bool:
        released = await self._leases.find_one_and_delete(
            {"_id": name, "holder": holder}, projection={"wanted": True}
        )
        return bool(released and released.get("wanted"))
