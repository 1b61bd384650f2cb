"""A conversation's next batch, and the writes of its outcome in one transaction.

Applied in one write transaction, a turn's outcome is never half written, so it needs no
journal of its own: a crash before the commit leaves the batch pending as it was. Outcomes
journalled by an earlier attempt or another process are still honoured (the first one wins).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from engine.store.lineage import links_of
from engine.store.queues import (
    AppliedTurn,
    DeliveryClaim,
    Embeddings,
    PendingBatch,
    closing_status,
)
from engine.store.sqlite._database import Database, snapshot, write
from engine.store.sqlite._queries import attach_embeddings
from engine.store.sqlite.agents import SQLiteAgentStore
from engine.store.sqlite.inbox import SQLiteInboxStore
from engine.store.sqlite.journal import SQLiteTurnJournal
from engine.store.sqlite.messages import append_on
from engine.store.sqlite.outbox import SQLiteOutboxStore
from engine.store.state import JournalEntry


@dataclass(frozen=True, slots=True)
class SQLiteTurnStore:
    db: Database
    agents: SQLiteAgentStore
    inbox: SQLiteInboxStore
    journal: SQLiteTurnJournal
    outbox: SQLiteOutboxStore

    async def pending(self, conversation: str, limit: int) -> PendingBatch:
        def read(conn: sqlite3.Connection) -> PendingBatch:
            with snapshot(conn):
                items = self.inbox.pending_on(conn, conversation, limit)
                if not items:
                    return PendingBatch(items)
                return PendingBatch(
                    items,
                    self.journal.fetch_on(conn, items[0].id),
                    self.agents.get_on(conn, items[-1].inbound.agent_id),
                )

        return await self.db.run(read)

    async def apply(
        self,
        entry: JournalEntry,
        *,
        journalled: bool = False,
        embeddings: Embeddings = (),
        claim: DeliveryClaim | None = None,
        attempt: int = 0,
    ) -> AppliedTurn:
        def apply(conn: sqlite3.Connection) -> AppliedTurn:
            with write(conn):
                earlier = None if journalled else self.journal.fetch_on(conn, entry.head)
                applied = earlier or entry
                append_on(conn, applied.messages, links_of(applied.links))
                if applied == entry:
                    attach_embeddings(conn, "messages", embeddings)
                fresh = not journalled and earlier is None
                self.outbox.put_on(conn, applied.replies, claim if fresh else None)
                self.inbox.mark_on(
                    conn, applied.items, closing_status(applied), applied.error, attempt
                )
                self.journal.forget_on(conn, [applied.head])
                # In the same write: a forget's marks are either seen here, or written after
                # this commit, and that forget finds what this turn stored.
                forgotten = self.inbox.marks_on(conn, applied.items)
            return AppliedTurn(applied, forgotten)

        return await self.db.run(apply)
