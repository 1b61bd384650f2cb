"""Bring a file written by an earlier version to the shape the schema script expects.

Runs before the schema script, inside a write transaction, so processes starting together
upgrade a file once. Each step checks what the file has, so running it again changes nothing.
"""

from __future__ import annotations

import sqlite3


def upgrade(conn: sqlite3.Connection) -> None:
    """Apply every step the file still needs (the caller holds the write transaction)."""
    _add_inbox_agent(conn)
    _add_journal_links(conn)
    _add_outbox_claims(conn)
    _add_document_sharers(conn)
    _add_document_shares(conn)
    _add_lease_wants(conn)


def _add_inbox_agent(conn: sqlite3.Connection) -> None:
    # Inbox dedupe became per agent: one message mentioning two agents is one item per agent.
    # The agent-keyed unique indexes need the column; the schema script creates them and
    # drops the old ones.
    columns = {row[1] for row in conn.execute("PRAGMA table_info(inbox)")}
    if not columns or "agent_id" in columns:
        return
    conn.execute("ALTER TABLE inbox ADD COLUMN agent_id TEXT NOT NULL DEFAULT ''")
    conn.execute("UPDATE inbox SET agent_id = json_extract(inbound, '$.agent_id')")


def _add_journal_links(conn: sqlite3.Connection) -> None:
    # A journalled turn carries the lineage links it writes when applied.
    columns = {row[1] for row in conn.execute("PRAGMA table_info(turn_journal)")}
    if not columns or "links" in columns:
        return
    conn.execute("ALTER TABLE turn_journal ADD COLUMN links TEXT NOT NULL DEFAULT '[]'")


def _add_outbox_claims(conn: sqlite3.Connection) -> None:
    # A reply is claimed for delivery on its own row (it was a lease of its own).
    columns = {row[1] for row in conn.execute("PRAGMA table_info(outbox)")}
    if not columns or "claimed_by" in columns:
        return
    conn.execute("ALTER TABLE outbox ADD COLUMN claimed_by TEXT NOT NULL DEFAULT ''")
    conn.execute("ALTER TABLE outbox ADD COLUMN claimed_until REAL NOT NULL DEFAULT 0")


def _add_document_sharers(conn: sqlite3.Connection) -> None:
    # A document shared in chat records who shared it, so forgetting them removes it.
    columns = {row[1] for row in conn.execute("PRAGMA table_info(source_documents)")}
    if not columns or "shared_by" in columns:
        return
    conn.execute("ALTER TABLE source_documents ADD COLUMN shared_by TEXT NOT NULL DEFAULT '[]'")


def _add_document_shares(conn: sqlite3.Connection) -> None:
    # A document shared in chat records the messages that shared it, so deleting them
    # removes it.
    columns = {row[1] for row in conn.execute("PRAGMA table_info(source_documents)")}
    if not columns or "shares" in columns:
        return
    conn.execute("ALTER TABLE source_documents ADD COLUMN shares TEXT NOT NULL DEFAULT '[]'")


def _add_lease_wants(conn: sqlite3.Connection) -> None:
    # A lease notes that another holder was refused it, so its holder serves the work waiting.
    columns = {row[1] for row in conn.execute("PRAGMA table_info(leases)")}
    if not columns or "wanted" in columns:
        return
    conn.execute("ALTER TABLE leases ADD COLUMN wanted INTEGER NOT NULL DEFAULT 0")
