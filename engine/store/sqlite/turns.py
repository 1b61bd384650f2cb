"""A conversation's next batch, and the writes of its outcome in one transaction.

Applied in one write transaction, a turn's outcome is never half written, so it needs no
journal of its own: a crash before the commit leaves the batch pending as it was. Outcomes
journalled by an earlier attempt or another process are still honoured (the first one wins).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from engine.store.lineage import links_of
from engine.store.protocol import InboxItem, closing_status
from engine.store.sqlite._database import Database, snapshot, write
from engine.store.sqlite._queries import attach_embeddings
from engine.store.sqlite.inbox import SQLiteInboxStore
from engine.store.sqlite.journal import SQLiteTurnJournal
from engine.store.sqlite.messages import append_on
from engine.store.sqlite.outbox import SQLiteOutboxStore
from engine.store.state import JournalEntry


class SQLiteTurnStore:
    def __init__(
        self,
        db: Database,
        inbox: SQLiteInboxStore,
        journal: SQLiteTurnJournal,
        outbox: SQLiteOutboxStore,
    ) -> None:
        self._db = db
        self._inbox = inbox
        self._journal = journal
        self._outbox = outbox

    async def pending(
        self, conversation: str, limit: int
    ) -> tuple[list[InboxItem], JournalEntry | None]:
        def read(conn: sqlite3.Connection) -> tuple[list[InboxItem], JournalEntry | None]:
            with snapshot(conn):
                items = self._inbox.pending_on(conn, conversation, limit)
                return items, (self._journal.fetch_on(conn, items[0].id) if items else None)

        return await self._db.run(read)

    async def apply(
        self,
        entry: JournalEntry,
        *,
        journalled: bool = False,
        embeddings: Sequence[tuple[str, Sequence[float]]] = (),
    ) -> JournalEntry:
        def apply(conn: sqlite3.Connection) -> JournalEntry:
            with write(conn):
                applied = entry if journalled else self._journal.fetch_on(conn, entry.head)
                applied = applied or entry
                append_on(conn, applied.messages, links_of(applied.links))
                if applied == entry:
                    attach_embeddings(conn, "messages", embeddings)
                self._outbox.put_on(conn, applied.replies)
                self._inbox.mark_on(conn, applied.items, closing_status(applied), applied.error)
                self._journal.forget_on(conn, [applied.head])
            return applied

        return await self._db.run(apply)
