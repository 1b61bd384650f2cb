"""A turn's context read: blocks, summary, newest messages and counts, in one snapshot and
one hand-over to the database's thread."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from engine.store.protocol import ContextQuery, ContextRead
from engine.store.sqlite._database import Database, snapshot
from engine.store.sqlite.blocks import SQLiteBlockStore
from engine.store.sqlite.messages import SQLiteMessageStore
from engine.store.sqlite.passages import SQLitePassageStore
from engine.store.sqlite.summaries import SQLiteSummaryStore


@dataclass(frozen=True, slots=True)
class SQLiteContextReads:
    db: Database
    blocks: SQLiteBlockStore
    summaries: SQLiteSummaryStore
    messages: SQLiteMessageStore
    passages: SQLitePassageStore

    async def read(self, query: ContextQuery) -> ContextRead:
        def read(conn: sqlite3.Connection) -> ContextRead:
            with snapshot(conn):
                summary = self.summaries.get_on(conn, query.conversation)
                after = summary.through_seq if summary else 0
                messages, where = self.messages, query.where
                return ContextRead(
                    blocks=self.blocks.select_on(conn, query.blocks),
                    summary=summary,
                    recent=messages.recent_on(conn, query.conversation, after, query.limit),
                    messages=messages.count_on(conn, where),
                    passages=self.passages.count_on(conn, where),
                    tags=self.passages.tag_counts_on(conn, where),
                )

        return await self.db.run(read)
