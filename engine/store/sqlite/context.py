"""A turn's context read: blocks, summary, newest messages and counts, read together."""

from __future__ import annotations

import asyncio

from engine.records import ConversationKey, Message, Summary
from engine.store.block_selection import BlockSelection
from engine.store.protocol import ContextRead, RecordFilter
from engine.store.sqlite.blocks import SQLiteBlockStore
from engine.store.sqlite.messages import SQLiteMessageStore
from engine.store.sqlite.passages import SQLitePassageStore
from engine.store.sqlite.summaries import SQLiteSummaryStore


class SQLiteContextReads:
    def __init__(
        self,
        blocks: SQLiteBlockStore,
        summaries: SQLiteSummaryStore,
        messages: SQLiteMessageStore,
        passages: SQLitePassageStore,
    ) -> None:
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
        parts, (summary, recent), messages, passages, tags = await asyncio.gather(
            self._blocks.visible(blocks.owners, blocks.workspace, blocks.scopes, blocks.keys),
            self._conversation(conversation, limit),
            self._messages.count(where),
            self._passages.count(where),
            self._passages.tag_counts(where),
        )
        return ContextRead(parts, summary, recent, messages, passages, tags)

    async def _conversation(
        self, conversation: ConversationKey, limit: int
    ) -> tuple[Summary | None, list[Message]]:
        summary = await self._summaries.get(conversation)
        after = summary.through_seq if summary else 0
        return summary, await self._messages.recent(conversation, after, limit)
