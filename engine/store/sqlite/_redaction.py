"""Rewriting messages in place (redacted, or edited on the platform): the old text and its
embedding go, and settling a forget leaves none of it in the file."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence

from engine.store.lineage import REDACTED, batches, redacted_calls
from engine.store.sqlite._database import write
from engine.store.sqlite._filters import placeholders

_UPDATE = (
    "UPDATE messages SET content = ?, tool_calls = ?, embedding = NULL, vec_rev = NULL WHERE id = ?"
)


def rewrite_rows(
    conn: sqlite3.Connection, content: str, condition: str, params: Sequence[object]
) -> int:
    """Give the messages ``condition`` picks the text ``content``, without the embedding of
    their old text; how many were changed."""
    with write(conn):
        embedded = conn.execute(
            f"SELECT count(*) FROM messages WHERE {condition} AND vec_rev IS NOT NULL", params
        ).fetchone()[0]
        changed: int = conn.execute(
            f"UPDATE messages SET content = ?, embedding = NULL, vec_rev = NULL WHERE {condition}",
            (content, *params),
        ).rowcount
        if embedded:
            _vectors_dropped(conn)
    return changed


def _vectors_dropped(conn: sqlite3.Connection) -> None:
    """In-memory vector copies watch this count, and drop the embeddings that are gone."""
    conn.execute("UPDATE vectors_meta SET deletes = deletes + 1 WHERE tbl = 'messages'")


def redact_rows(conn: sqlite3.Connection, message_ids: Sequence[str]) -> dict[str, str]:
    """Redact these messages (the FTS triggers re-index the marker); the turn of each found."""
    turns: dict[str, str] = {}
    with write(conn):
        for batch in batches(sorted(set(message_ids))):
            rows = conn.execute(
                "SELECT id, tool_calls, vec_rev, turn_id FROM messages "
                f"WHERE id IN ({placeholders(len(batch))})",
                batch,
            ).fetchall()
            conn.executemany(
                _UPDATE,
                [
                    (REDACTED, calls and json.dumps(redacted_calls(json.loads(calls))), rid)
                    for rid, calls, _, _ in rows
                ],
            )
            if any(rev is not None for _, _, rev, _ in rows):
                _vectors_dropped(conn)
            turns.update((rid, turn) for rid, _, _, turn in rows)
    return turns


def settle_forget(conn: sqlite3.Connection) -> None:
    """Leave no forgotten text in the file: emptied count rows (tags) go, the full-text
    indexes are merged so no deleted term stays in an old segment, and the log is
    checkpointed and truncated (``secure_delete`` zeroes the freed pages)."""
    with write(conn):
        conn.execute("DELETE FROM record_counts WHERE n <= 0")
        for fts in ("messages_fts", "passages_fts"):
            conn.execute(f"INSERT INTO {fts} ({fts}) VALUES ('optimize')")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
