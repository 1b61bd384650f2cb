"""A turn's context read: blocks, summary, newest messages and counts, in one snapshot and
one hand-over to the database's thread."""

from __future__ import annotations

import sqlite3

from engine.records import ConversationKey
from engine.store.block_selection import BlockSelection
from engine.store.protocol import ContextRead, RecordFilter
from engine.store.sqlite._database import Database, snapshot
from engine.store.sqlite.blocks import SQLiteBlockStore
from engine.store.sqlite.messages import SQLiteMessageStore
from engine.store.sqlite.passages import SQLitePassageStore
from engine.store.sqlite.summaries import SQLiteSummaryStore


class SQLiteContextReads:
    def __init__(
        self,
        db: Database,
        blocks: SQLiteBlockStore,
        summaries: SQLiteSummaryStore,
        messages: SQLiteMessageStore,
        passages: SQLitePassageStore,
    ) -> None:
        self._db = db
        self._blocks = blocks
        self._summaries = summaries
        self._messages = messages
        self._passages = passages

    async def read(
        self,
        blocks: BlockSelection,
        where: RecordFilter,
        conversation: ConversationKey,
        limit: int,
    ) -> ContextRead:
        def read(conn: sqlite3.Connection) -> ContextRead:
            with snapshot(conn):
                summary = self._summaries.get_on(conn, conversation)
                after = summary.through_seq if summary else 0
                return ContextRead(
                    blocks=self._blocks.select_on(conn, blocks),
                    summary=summary,
                    recent=self._messages.recent_on(conn, conversation, after, limit),
                    messages=self._messages.count_on(conn, where),
                    passages=self._passages.count_on(conn, where),
                    tags=self._passages.tag_counts_on(conn, where),
                )

        return await self._db.run(read)
