"""A conversation's next batch with its journalled outcome in one read, and the outcome's
writes in an order that survives a crash at any point.

MongoDB writes to several collections are several commands, so the outcome is journalled
first (one update of the batch's first item: from then on it is the outcome), then written
idempotently, and the first item marked last, by the write that drops its journal: a crash
midway leaves the batch pending with its journal, and the next attempt writes the same outcome
again.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from pymongo import ASCENDING

from engine.records import Agent
from engine.store.codec import decode
from engine.store.lineage import links_of
from engine.store.mongo._documents import Collection, Document, as_record
from engine.store.mongo._inbox import MongoInbox
from engine.store.mongo._journal import OUTCOME, MongoTurnJournal
from engine.store.mongo._messages import MongoMessages
from engine.store.mongo._outbox import MongoOutbox
from engine.store.queues import (
    AppliedTurn,
    DeliveryClaim,
    Embeddings,
    InboxItem,
    InboxStatus,
    PendingBatch,
    closing_status,
)
from engine.store.state import JournalEntry

_JOURNALLED = "_journalled"
_AGENT = "_agent"


def _joined(collection: str, field: str, into: str) -> Document:
    """The documents of ``collection`` whose ``_id`` is the item's ``field``, as ``into``."""
    return {"$lookup": {"from": collection, "localField": field, "foreignField": "_id", "as": into}}


def _without_id(doc: Document) -> Document:
    return {key: value for key, value in doc.items() if key != "_id"}


@dataclass(frozen=True, slots=True)
class MongoTurnStore:
    items: Collection
    agents: Collection
    inbox: MongoInbox
    journal: MongoTurnJournal
    messages: MongoMessages
    outbox: MongoOutbox

    async def pending(self, conversation: str, limit: int) -> PendingBatch:
        if limit <= 0:
            return PendingBatch([])
        pipeline: list[Document] = [
            {"$match": {"status": InboxStatus.PENDING.value, "conversation": conversation}},
            {"$sort": {"seq": ASCENDING}},
            {"$limit": limit},
            _joined(self.journal.collection_name, "_id", _JOURNALLED),
            _joined(self.agents.name, "inbound.agent_id", _AGENT),
        ]
        docs = [doc async for doc in await self.items.aggregate(pipeline)]
        if not docs:
            return PendingBatch([])
        # Joined to every item: the first item's journal and the items' agent count. An
        # outcome kept apart from its item (by an earlier version) was journalled first.
        journals = [doc.pop(_JOURNALLED) for doc in docs]
        outcomes = [doc.pop(OUTCOME, None) for doc in docs]
        agents = [doc.pop(_AGENT) for doc in docs]
        journalled, agent = journals[0], agents[-1]
        outcome = _without_id(journalled[0]) if journalled else outcomes[0]
        return PendingBatch(
            [as_record(InboxItem, doc) for doc in docs],
            None if outcome is None else decode(JournalEntry, outcome),
            as_record(Agent, agent[0]) if agent else None,
        )

    async def apply(
        self,
        entry: JournalEntry,
        *,
        journalled: bool = False,
        embeddings: Embeddings = (),
        claim: DeliveryClaim | None = None,
        attempt: int = 0,
    ) -> AppliedTurn:
        recorded = entry if journalled else await self.journal.record(entry)
        fresh = not journalled and recorded == entry
        vectors = embeddings if recorded == entry else ()
        entry = recorded
        # Independent idempotent writes, sent together; the marks wait for all of them.
        await asyncio.gather(
            self.messages.append(entry.messages, links_of(entry.links), vectors),
            self.outbox.put(entry.replies, claim if fresh else None),
        )
        # Marking the first item drops the outcome journalled on it.
        forgotten = await self.inbox.mark_all(
            entry.items, closing_status(entry), entry.error, attempt
        )
        if journalled:  # it may have been kept apart, by an earlier version
            await self.journal.forget_apart([entry.head])
        return AppliedTurn(entry, forgotten)
