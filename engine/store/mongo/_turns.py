"""A conversation's next batch with its journalled outcome in one read, and the outcome's
writes in an order that survives a crash at any point.

MongoDB writes to several collections are several commands, so the outcome is journalled
first (one insert: from then on it is the outcome), then written idempotently, the batch's
first item marked last and the journal entry dropped: a crash midway leaves the batch pending
with its journal, and the next attempt writes the same outcome again.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from pymongo import ASCENDING

from engine.store.codec import decode
from engine.store.lineage import links_of
from engine.store.mongo._documents import Collection, Document, as_record
from engine.store.mongo._inbox import MongoInbox
from engine.store.mongo._journal import MongoTurnJournal
from engine.store.mongo._messages import MongoMessages
from engine.store.mongo._outbox import MongoOutbox
from engine.store.protocol import Embeddings, InboxItem, InboxStatus, PendingBatch, closing_status
from engine.store.state import JournalEntry

_JOURNALLED = "_journalled"


@dataclass(frozen=True, slots=True)
class MongoTurnStore:
    items: Collection
    inbox: MongoInbox
    journal: MongoTurnJournal
    messages: MongoMessages
    outbox: MongoOutbox

    async def pending(self, conversation: str, limit: int) -> PendingBatch:
        if limit <= 0:
            return [], None
        pipeline: list[Document] = [
            {"$match": {"status": InboxStatus.PENDING.value, "conversation": conversation}},
            {"$sort": {"seq": ASCENDING}},
            {"$limit": limit},
            {
                "$lookup": {
                    "from": self.journal.collection_name,
                    "localField": "_id",
                    "foreignField": "_id",
                    "as": _JOURNALLED,
                }
            },
        ]
        docs = [doc async for doc in await self.items.aggregate(pipeline)]
        journalled = [doc.pop(_JOURNALLED) for doc in docs]
        entry = None
        if journalled and journalled[0]:
            stored = dict(journalled[0][0])
            del stored["_id"]
            entry = decode(JournalEntry, stored)
        return [as_record(InboxItem, doc) for doc in docs], entry

    async def apply(
        self, entry: JournalEntry, *, journalled: bool = False, embeddings: Embeddings = ()
    ) -> JournalEntry:
        recorded = entry if journalled else await self.journal.record(entry)
        vectors = embeddings if recorded == entry else ()
        entry = recorded
        # Independent idempotent writes, sent together; the marks wait for all of them.
        await asyncio.gather(
            self.messages.append(entry.messages, links_of(entry.links), vectors),
            self.outbox.put(entry.replies),
        )
        await self.inbox.mark_all(entry.items, closing_status(entry), entry.error)
        await self.journal.forget([entry.head])
        return entry
