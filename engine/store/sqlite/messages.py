"""Recall memory: every message, with FTS5 text search and in-process vector ranking."""

from __future__ import annotations

import builtins
import sqlite3
from collections.abc import Sequence
from datetime import datetime

from engine.audience import Scope
from engine.records import ConversationKey, Message
from engine.store.lineage import Link
from engine.store.protocol import ConversationActivity, RecordFilter
from engine.store.sqlite._columns import Columns
from engine.store.sqlite._database import Database, snapshot, write
from engine.store.sqlite._filters import conversation_params, placeholders
from engine.store.sqlite._queries import MemoryTable
from engine.store.sqlite._redaction import redact_rows, rewrite_rows
from engine.store.sqlite._time import from_micros, to_micros
from engine.store.sqlite.lineage import link_on

COLUMNS = Columns(Message)
_SELECTED = COLUMNS.listed("m")
_CONVERSATION = "m.agent_id = ? AND m.workspace = ? AND m.channel = ? AND m.thread = ?"
_REF = "workspace = ? AND channel = ? AND platform_ref = ?"
_OF_USER = "workspace = ? AND (author = ? OR scope = ?)"
VECTOR_COLUMNS = (
    "pos, vec_rev, agent_id, workspace, scope, channel, author, NULL, NULL, created_at, embedding"
)

#: Decoded messages kept by position (see ``DecodedMessages``), and their text in characters:
#: a few hundred windows of ordinary messages, a few dozen of very long ones.
DECODED_LIMIT = 8192
DECODED_CHARS = 8_000_000
_RECENT = (
    f"SELECT m.pos FROM messages m WHERE {_CONVERSATION} AND m.seq > ? ORDER BY m.seq DESC LIMIT ?"
)
_INSERT = f"INSERT OR IGNORE INTO messages ({COLUMNS.listed()}) VALUES ({COLUMNS.slots})"
#: Positions looked up per statement, well under SQLite's limit on bound variables.
_LOOKUP_CHUNK = 500


class DecodedMessages:
    """Messages decoded from their rows, by position, while no message is edited or deleted.

    A context window reads mostly the same messages step after step. Positions are never
    reused and a stored row changes only by an edit or a deletion, each of which bumps
    ``message_changes``: at an unchanged count, a kept message is its row as stored now. Used
    only on the database's thread, inside one snapshot with the count it is given.
    """

    def __init__(self, limit: int = DECODED_LIMIT, chars: int = DECODED_CHARS) -> None:
        self._limit = limit
        self._chars_limit = chars
        self._chars = 0
        self._changes = -1
        self._by_pos: dict[int, Message] = {}

    def read(
        self, conn: sqlite3.Connection, changes: int, positions: Sequence[int]
    ) -> list[Message]:
        """The messages at ``positions``, in that order, decoding only those not kept."""
        kept = self._by_pos
        if changes != self._changes:
            kept.clear()
            self._chars = 0
            self._changes = changes
        found = {pos: kept[pos] for pos in positions if pos in kept}
        missing = [pos for pos in positions if pos not in found]
        for start in range(0, len(missing), _LOOKUP_CHUNK):
            chunk = missing[start : start + _LOOKUP_CHUNK]
            rows = conn.execute(
                f"SELECT m.pos, {_SELECTED} FROM messages m "
                f"WHERE m.pos IN ({placeholders(len(chunk))})",
                chunk,
            ).fetchall()
            for row in rows:
                message = found[row[0]] = kept[row[0]] = COLUMNS.record(row[1:])
                self._chars += len(message.content)
                while len(kept) > self._limit or self._chars > self._chars_limit:
                    self._chars -= len(kept.pop(next(iter(kept))).content)
        return [found[pos] for pos in positions]


def append_on(conn: sqlite3.Connection, messages: Sequence[Message], links: Sequence[Link]) -> None:
    """``MessageStore.append`` inside a write transaction already begun."""
    conn.executemany(_INSERT, [COLUMNS.row(m) for m in messages])
    link_on(conn, links)


class SQLiteMessageStore(MemoryTable[Message]):
    def __init__(self, db: Database) -> None:
        super().__init__(db, "messages", COLUMNS, VECTOR_COLUMNS)
        self._decoded = DecodedMessages()

    async def append(self, messages: Sequence[Message], links: Sequence[Link] = ()) -> None:
        if not messages and not links:
            return

        def append(conn: sqlite3.Connection) -> None:
            with write(conn):
                append_on(conn, messages, links)

        await self._db.run(append)

    async def recent(
        self, conversation: ConversationKey, after_seq: int, limit: int
    ) -> list[Message]:
        def read(conn: sqlite3.Connection) -> list[Message]:
            with snapshot(conn):
                return self.recent_on(conn, conversation, after_seq, limit)

        return await self._db.run(read)

    def recent_on(
        self, conn: sqlite3.Connection, conversation: ConversationKey, after_seq: int, limit: int
    ) -> list[Message]:
        """``recent`` on the database's thread, inside a transaction already begun."""
        # Positions from the covering index; only messages not decoded before are read whole.
        changes: int = conn.execute("SELECT n FROM message_changes").fetchone()[0]
        params = (*conversation_params(conversation), after_seq, limit)
        positions = [row[0] for row in conn.execute(_RECENT, params)]
        positions.reverse()
        return self._decoded.read(conn, changes, positions)

    async def between(
        self, conversation: ConversationKey, after_seq: int, through_seq: int
    ) -> list[Message]:
        return await self.fetch_all(
            f"{_CONVERSATION} AND m.seq > ? AND m.seq <= ?",
            (*conversation_params(conversation), after_seq, through_seq),
            "ORDER BY m.seq",
        )

    async def around(
        self, conversation: ConversationKey, seq: int, limit: int
    ) -> builtins.list[Message]:
        params = (*conversation_params(conversation), seq, limit)
        before = await self.fetch_all(
            f"{_CONVERSATION} AND m.seq < ?", params, "ORDER BY m.seq DESC LIMIT ?"
        )
        after = await self.fetch_all(
            f"{_CONVERSATION} AND m.seq >= ?", params, "ORDER BY m.seq LIMIT ?"
        )
        return [*reversed(before), *after]

    async def list(
        self, where: RecordFilter, limit: int, before_seq: int | None = None
    ) -> list[Message]:
        also, params = ("m.seq < ?", (before_seq,)) if before_seq is not None else ("", ())
        return await self.listed(where, "m.seq DESC", limit, also=also, also_params=params)

    async def edit(self, workspace: str, channel: str, platform_ref: str, content: str) -> int:
        if not platform_ref:
            return 0
        # The old embedding described the old text; it is dropped rather than left stale.
        return await self._db.run(
            lambda c: rewrite_rows(c, content, _REF, (workspace, channel, platform_ref))
        )

    async def delete_ref(self, workspace: str, channel: str, platform_ref: str) -> int:
        if not platform_ref:
            return 0
        return await self.delete_where(_REF, (workspace, channel, platform_ref))

    async def delete_user(self, workspace: str, user: str) -> int:
        return await self.delete_where(_OF_USER, (workspace, user, str(Scope.dm(user))))

    async def ids_of_user(self, workspace: str, user: str) -> builtins.list[str]:
        return await self._ids(_OF_USER, (workspace, user, str(Scope.dm(user))))

    async def ids_of_ref(
        self, workspace: str, channel: str, platform_ref: str
    ) -> builtins.list[str]:
        return await self._ids(_REF, (workspace, channel, platform_ref)) if platform_ref else []

    async def _ids(self, condition: str, params: Sequence[object]) -> builtins.list[str]:
        rows = await self._db.query(f"SELECT id FROM messages WHERE {condition}", params)
        return [row[0] for row in rows]

    async def by_ids(self, message_ids: Sequence[str]) -> builtins.list[Message]:
        ids = sorted(set(message_ids))
        found: builtins.list[Message] = []
        for start in range(0, len(ids), _LOOKUP_CHUNK):
            chunk = ids[start : start + _LOOKUP_CHUNK]
            found += await self.fetch_all(f"m.id IN ({placeholders(len(chunk))})", chunk)
        return found

    async def redact(self, message_ids: Sequence[str]) -> dict[str, str]:
        return await self._db.run(lambda c: redact_rows(c, message_ids))

    async def delete_before(self, workspace: str, before: datetime) -> int:
        return await self.delete_where(
            "workspace = ? AND created_at < ?", (workspace, to_micros(before))
        )

    async def conversations_since(
        self, after: datetime, before: datetime | None = None
    ) -> builtins.list[ConversationActivity]:
        sql = (
            "SELECT agent_id, workspace, channel, thread, max(scope), count(*), max(seq), "
            "max(created_at) FROM messages WHERE created_at > ? AND created_at < ? "
            "GROUP BY agent_id, workspace, channel, thread"
        )
        upper = to_micros(before) if before is not None else 2**62
        params = (to_micros(after), upper)
        rows = await self._db.query(sql, params)
        return [
            ConversationActivity(
                ConversationKey(row[0], row[1], row[2], row[3]),
                scope=Scope.parse(row[4]),
                messages=row[5],
                last_seq=row[6],
                last_at=from_micros(row[7]),
            )
            for row in rows
        ]
