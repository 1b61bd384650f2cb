"""Leases that serialise a conversation (or a scheduled job) across processes.

Taking a lease is one atomic upsert whose filter matches only a free, expired or own lease;
when another holder's live lease exists the upsert collides with its ``_id`` instead.
"""

from __future__ import annotations

from datetime import timedelta

from pymongo.errors import DuplicateKeyError

from engine.records import utcnow
from engine.store.mongo._documents import Collection


class MongoLeases:
    def __init__(self, collection: Collection) -> None:
        self._leases = collection

    async def acquire(self, name: str, holder: str, ttl: float) -> bool:
        now = utcnow()
        try:
            await self._leases.update_one(
                {"_id": name, "$or": [{"expires_at": {"$lte": now}}, {"holder": holder}]},
                {"$set": {"holder": holder, "expires_at": now + timedelta(seconds=ttl)}},
                upsert=True,
            )
        except DuplicateKeyError:
            return False
        return True

    async def renew(self, name: str, holder: str, ttl: float) -> bool:
        result = await self._leases.update_one(
            {"_id": name, "holder": holder},
            {"$set": {"expires_at": utcnow() + timedelta(seconds=ttl)}},
        )
        return result.matched_count == 1

    async def release(self, name: str, holder: str) -> None:
        await self._leases.delete_one({"_id": name, "holder": holder})
