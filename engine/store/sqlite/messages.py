"""Recall memory: every message, with FTS5 text search and in-process vector ranking."""

from __future__ import annotations

import builtins
import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from engine.audience import Scope
from engine.records import ConversationKey, Message, Role, ToolCall
from engine.store.codec import decode, encode
from engine.store.protocol import ConversationActivity, RecordFilter, Scored
from engine.store.sqlite._database import Database, snapshot, write
from engine.store.sqlite._embeddings import as_blob, take_revs
from engine.store.sqlite._filters import counted_scopes, placeholders, where_visible
from engine.store.sqlite._fts import ranked_rows
from engine.store.sqlite._time import from_micros, to_micros
from engine.store.sqlite._vectors import VectorIndex, nearest

_FIELDS = (
    "id, agent_id, workspace, channel, thread, scope, role, author, author_name, content, "
    "seq, created_at, tool_calls, tool_call_id, platform_ref, turn_id"
)
_COLUMNS = ", ".join(f"m.{name.strip()}" for name in _FIELDS.split(","))
_CONVERSATION = "m.agent_id = ? AND m.workspace = ? AND m.channel = ? AND m.thread = ?"
VECTOR_COLUMNS = (
    "pos, vec_rev, agent_id, workspace, scope, channel, author, NULL, NULL, created_at, embedding"
)


#: Role by stored value; a dict lookup is several times cheaper than calling the enum.
_ROLES = {role.value: role for role in Role}


def _message(row: Sequence[Any]) -> Message:
    calls = row[12]
    return Message(
        id=row[0],
        agent_id=row[1],
        workspace=row[2],
        channel=row[3],
        thread=row[4],
        scope=Scope.parse(row[5]),
        role=_ROLES[row[6]],
        author=row[7],
        author_name=row[8],
        content=row[9],
        seq=row[10],
        created_at=from_micros(row[11]),
        tool_calls=tuple(decode(ToolCall, c) for c in json.loads(calls)) if calls else (),
        tool_call_id=row[13],
        platform_ref=row[14],
        turn_id=row[15],
    )


#: Decoded messages kept by position (see ``DecodedMessages``), and their text in characters:
#: a few hundred windows of ordinary messages, a few dozen of very long ones.
DECODED_LIMIT = 8192
DECODED_CHARS = 8_000_000
#: Positions looked up per statement, well under SQLite's limit on bound variables.
_LOOKUP_CHUNK = 500


def _row(message: Message) -> tuple[object, ...]:
    calls = [encode(c) for c in message.tool_calls] if message.tool_calls else None
    return (
        message.id,
        message.agent_id,
        message.workspace,
        message.channel,
        message.thread,
        str(message.scope),
        message.role.value,
        message.author,
        message.author_name,
        message.content,
        message.seq,
        to_micros(message.created_at),
        None if calls is None else json.dumps(calls),
        message.tool_call_id,
        message.platform_ref,
        message.turn_id,
    )


def _key(conversation: ConversationKey) -> tuple[str, str, str, str]:
    return (
        conversation.agent_id,
        conversation.workspace,
        conversation.channel,
        conversation.thread,
    )


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
                f"SELECT m.pos, {_COLUMNS} FROM messages m "
                f"WHERE m.pos IN ({placeholders(len(chunk))})",
                chunk,
            ).fetchall()
            for row in rows:
                message = found[row[0]] = kept[row[0]] = _message(row[1:])
                self._chars += len(message.content)
                while len(kept) > self._limit or self._chars > self._chars_limit:
                    self._chars -= len(kept.pop(next(iter(kept))).content)
        return [found[pos] for pos in positions]


class SQLiteMessageStore:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._vectors = VectorIndex("messages", VECTOR_COLUMNS)
        self._decoded = DecodedMessages()

    async def append(self, messages: Sequence[Message]) -> None:
        if not messages:
            return
        rows = [_row(m) for m in messages]

        def append(conn: sqlite3.Connection) -> None:
            with write(conn):
                conn.executemany(
                    f"INSERT OR IGNORE INTO messages ({_FIELDS}) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    rows,
                )

        await self._db.run(append)

    async def recent(
        self, conversation: ConversationKey, after_seq: int, limit: int
    ) -> list[Message]:
        # Positions from the covering index; only messages not decoded before are read whole.
        sql = (
            f"SELECT m.pos FROM messages m WHERE {_CONVERSATION} "
            "AND m.seq > ? ORDER BY m.seq DESC LIMIT ?"
        )
        params = (*_key(conversation), after_seq, limit)

        def read(conn: sqlite3.Connection) -> list[Message]:
            with snapshot(conn):
                changes: int = conn.execute("SELECT n FROM message_changes").fetchone()[0]
                positions = [row[0] for row in conn.execute(sql, params)]
                positions.reverse()
                return self._decoded.read(conn, changes, positions)

        return await self._db.run(read)

    async def between(
        self, conversation: ConversationKey, after_seq: int, through_seq: int
    ) -> list[Message]:
        sql = (
            f"SELECT {_COLUMNS} FROM messages m WHERE {_CONVERSATION} "
            "AND m.seq > ? AND m.seq <= ? ORDER BY m.seq"
        )
        params = (*_key(conversation), after_seq, through_seq)
        rows = await self._db.run(lambda c: c.execute(sql, params).fetchall())
        return [_message(row) for row in rows]

    async def search_text(
        self, where: RecordFilter, query: str, limit: int
    ) -> list[Scored[Message]]:
        condition, params = where_visible(where, "messages", "m")
        rows = await self._db.run(
            lambda c: ranked_rows(
                c,
                fts="messages_fts",
                table="messages",
                alias="m",
                columns=_COLUMNS,
                condition=condition,
                params=params,
                query=query,
                limit=limit,
            )
        )
        return [Scored(_message(row), -float(row[16])) for row in rows]

    async def search_vector(
        self, where: RecordFilter, vector: Sequence[float], limit: int
    ) -> list[Scored[Message]]:
        condition, params = where_visible(where, "messages", "m")

        def rows(conn: sqlite3.Connection, positions: list[int]) -> dict[int, Message]:
            # NOT INDEXED: lacking statistics, the planner would rather scan the agent's rows
            # by index than look up these few rowids.
            found = conn.execute(
                f"SELECT m.pos, {_COLUMNS} FROM messages m NOT INDEXED "
                f"WHERE m.pos IN ({placeholders(len(positions))}) AND {condition}",
                positions + params,
            ).fetchall()
            return {row[0]: _message(row[1:]) for row in found}

        return await nearest(self._db, self._vectors, where, vector, limit, rows)

    async def set_embeddings(self, embeddings: Sequence[tuple[str, Sequence[float]]]) -> None:
        if not embeddings:
            return
        blobs = [(message_id, as_blob(vector)) for message_id, vector in embeddings]

        def attach(conn: sqlite3.Connection) -> None:
            with write(conn):
                revs = take_revs(conn, "messages", len(blobs))
                conn.executemany(
                    "UPDATE messages SET embedding = ?, vec_rev = ? WHERE id = ?",
                    [(blob, rev, mid) for (mid, blob), rev in zip(blobs, revs, strict=True)],
                )

        await self._db.run(attach)

    async def list(
        self, where: RecordFilter, limit: int, before_seq: int | None = None
    ) -> list[Message]:
        condition, params = where_visible(where, "messages", "m")
        if before_seq is not None:
            condition += " AND m.seq < ?"
            params.append(before_seq)
        sql = f"SELECT {_COLUMNS} FROM messages m WHERE {condition} ORDER BY m.seq DESC LIMIT ?"
        rows = await self._db.run(lambda c: c.execute(sql, [*params, limit]).fetchall())
        return [_message(row) for row in rows]

    async def count(self, where: RecordFilter) -> int:
        counted = counted_scopes(where)
        if counted is not None:
            condition, params = counted
            sql = (
                "SELECT coalesce(sum(n), 0) FROM record_counts "
                f"WHERE kind = 'messages' AND tag = '' AND {condition}"
            )
        else:
            condition, params = where_visible(where, "messages", "m")
            sql = f"SELECT count(*) FROM messages m WHERE {condition}"
        count: int = await self._db.run(lambda c: c.execute(sql, params).fetchone()[0])
        return count

    async def edit(self, workspace: str, channel: str, platform_ref: str, content: str) -> int:
        if not platform_ref:
            return 0
        return await self._db.run(
            lambda c: (
                c.execute(
                    "UPDATE messages SET content = ? "
                    "WHERE workspace = ? AND channel = ? AND platform_ref = ?",
                    (content, workspace, channel, platform_ref),
                ).rowcount
            )
        )

    async def delete_ref(self, workspace: str, channel: str, platform_ref: str) -> int:
        if not platform_ref:
            return 0
        return await self._delete(
            "workspace = ? AND channel = ? AND platform_ref = ?",
            (workspace, channel, platform_ref),
        )

    async def delete_user(self, workspace: str, user: str) -> int:
        return await self._delete(
            "workspace = ? AND (author = ? OR scope = ?)", (workspace, user, str(Scope.dm(user)))
        )

    async def delete_before(self, workspace: str, before: datetime) -> int:
        return await self._delete(
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
        rows = await self._db.run(lambda c: c.execute(sql, params).fetchall())
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

    async def _delete(self, condition: str, params: tuple[object, ...]) -> int:
        def delete(conn: sqlite3.Connection) -> int:
            with write(conn):
                return conn.execute(f"DELETE FROM messages WHERE {condition}", params).rowcount

        return await self._db.run(delete)
