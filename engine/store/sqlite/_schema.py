"""The SQLite schema: created idempotently at every start.

Times are integer microseconds since the epoch (UTC), so range filters compare integers.
Text search tables are FTS5 external-content tables kept in sync by triggers. Per-scope record
and tag counts are kept by triggers, so the counts a turn shows cost the same at any size.
Rows that carry an embedding get a ``vec_rev`` from ``vectors_meta``; deleting one bumps
``deletes``, so every process can tell when its in-memory vector copy is stale. Editing or
deleting a message bumps ``message_changes`` likewise, for the messages a process keeps decoded.
The durable queues and typed state have their tables in ``_state_schema``.
"""

from engine.store.sqlite._state_schema import STATE_TABLES

#: The per-tag counts a memory table with a ``tags`` column keeps besides its per-scope ones.
_COUNT_TAGS_INSERT = """
    INSERT INTO record_counts
        SELECT DISTINCT 'tags', new.agent_id, new.workspace, new.scope, value, 1
        FROM json_each(new.tags) WHERE true
        ON CONFLICT DO UPDATE SET n = n + 1;"""
_COUNT_TAGS_DELETE = """
    UPDATE record_counts SET n = n - 1 WHERE kind = 'tags' AND agent_id = old.agent_id
        AND workspace = old.workspace AND scope = old.scope
        AND tag IN (SELECT value FROM json_each(old.tags));"""


def _memory_triggers(table: str, text: str, *, tags: bool = False) -> str:
    """What keeps a memory table's derived data in step with it: the FTS5 index on its
    ``text`` column, its per-scope record counts (and per-tag counts for a table with
    ``tags``), and the deletion count its in-memory vector copies watch."""
    fts = f"{table}_fts"
    count_tags_insert = _COUNT_TAGS_INSERT if tags else ""
    count_tags_delete = _COUNT_TAGS_DELETE if tags else ""
    return f"""
CREATE VIRTUAL TABLE IF NOT EXISTS {fts} USING fts5 (
    {text}, content='{table}', content_rowid='pos',
    tokenize='porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER IF NOT EXISTS {fts}_insert AFTER INSERT ON {table} BEGIN
    INSERT INTO {fts} (rowid, {text}) VALUES (new.pos, new.{text});
END;
CREATE TRIGGER IF NOT EXISTS {fts}_delete AFTER DELETE ON {table} BEGIN
    INSERT INTO {fts} ({fts}, rowid, {text}) VALUES ('delete', old.pos, old.{text});
END;
CREATE TRIGGER IF NOT EXISTS {fts}_update AFTER UPDATE OF {text} ON {table} BEGIN
    INSERT INTO {fts} ({fts}, rowid, {text}) VALUES ('delete', old.pos, old.{text});
    INSERT INTO {fts} (rowid, {text}) VALUES (new.pos, new.{text});
END;
CREATE TRIGGER IF NOT EXISTS {table}_count_insert AFTER INSERT ON {table} BEGIN
    INSERT INTO record_counts VALUES ('{table}', new.agent_id, new.workspace, new.scope, '', 1)
        ON CONFLICT DO UPDATE SET n = n + 1;{count_tags_insert}
END;
CREATE TRIGGER IF NOT EXISTS {table}_count_delete AFTER DELETE ON {table} BEGIN
    UPDATE record_counts SET n = n - 1 WHERE kind = '{table}' AND agent_id = old.agent_id
        AND workspace = old.workspace AND scope = old.scope AND tag = '';{count_tags_delete}
END;
CREATE TRIGGER IF NOT EXISTS {table}_vec_delete AFTER DELETE ON {table}
    WHEN old.vec_rev IS NOT NULL BEGIN
    UPDATE vectors_meta SET deletes = deletes + 1 WHERE tbl = '{table}';
END;
"""


def _link_table(name: str) -> str:
    """A table of lineage links: record ``record_id`` of ``kind`` was derived from ``source``."""
    return f"""CREATE TABLE IF NOT EXISTS {name} (
    kind TEXT NOT NULL,
    record_id TEXT NOT NULL,
    source TEXT NOT NULL,
    workspace TEXT NOT NULL,
    PRIMARY KEY (kind, record_id, source)
) WITHOUT ROWID;"""


SCHEMA = f"""
CREATE TABLE IF NOT EXISTS agents (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS agents_name ON agents (name);

CREATE TABLE IF NOT EXISTS blocks (
    pos INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    owner TEXT NOT NULL,
    workspace TEXT NOT NULL,
    label TEXT NOT NULL,
    subject TEXT NOT NULL,
    scope TEXT NOT NULL,
    value TEXT NOT NULL,
    char_limit INTEGER NOT NULL,
    version INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (owner, workspace, label, subject, scope)
);
CREATE INDEX IF NOT EXISTS blocks_user ON blocks (workspace, label, subject);
CREATE INDEX IF NOT EXISTS blocks_scope ON blocks (workspace, scope);

CREATE TABLE IF NOT EXISTS vectors_meta (
    tbl TEXT PRIMARY KEY,
    rev INTEGER NOT NULL,
    deletes INTEGER NOT NULL
);
INSERT OR IGNORE INTO vectors_meta VALUES ('messages', 0, 0), ('passages', 0, 0);

CREATE TABLE IF NOT EXISTS record_counts (
    kind TEXT NOT NULL,
    agent_id TEXT NOT NULL,
    workspace TEXT NOT NULL,
    scope TEXT NOT NULL,
    tag TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (kind, agent_id, workspace, scope, tag)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS messages (
    pos INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    agent_id TEXT NOT NULL,
    workspace TEXT NOT NULL,
    channel TEXT NOT NULL,
    thread TEXT NOT NULL,
    scope TEXT NOT NULL,
    role TEXT NOT NULL,
    author TEXT NOT NULL,
    author_name TEXT NOT NULL,
    content TEXT NOT NULL,
    seq INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    tool_calls TEXT,
    tool_call_id TEXT NOT NULL,
    platform_ref TEXT NOT NULL,
    turn_id TEXT NOT NULL,
    embedding BLOB,
    vec_rev INTEGER
);
CREATE INDEX IF NOT EXISTS messages_conversation
    ON messages (agent_id, workspace, channel, thread, seq);
CREATE INDEX IF NOT EXISTS messages_visible ON messages (agent_id, workspace, seq);
CREATE INDEX IF NOT EXISTS messages_ref
    ON messages (workspace, channel, platform_ref) WHERE platform_ref != '';
CREATE INDEX IF NOT EXISTS messages_vec ON messages (vec_rev) WHERE vec_rev IS NOT NULL;

{_memory_triggers("messages", "content")}
CREATE TABLE IF NOT EXISTS message_changes (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n INTEGER NOT NULL
);
INSERT OR IGNORE INTO message_changes VALUES (1, 0);
CREATE TRIGGER IF NOT EXISTS messages_changes_update AFTER UPDATE OF id, agent_id, workspace,
    channel, thread, scope, role, author, author_name, content, seq, created_at, tool_calls,
    tool_call_id, platform_ref, turn_id ON messages BEGIN
    UPDATE message_changes SET n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS messages_changes_delete AFTER DELETE ON messages BEGIN
    UPDATE message_changes SET n = n + 1;
END;

CREATE TABLE IF NOT EXISTS passages (
    pos INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    agent_id TEXT NOT NULL,
    workspace TEXT NOT NULL,
    scope TEXT NOT NULL,
    text TEXT NOT NULL,
    tags TEXT NOT NULL,
    users TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    embedding BLOB,
    vec_rev INTEGER
);
CREATE INDEX IF NOT EXISTS passages_visible ON passages (agent_id, workspace, created_at);
CREATE INDEX IF NOT EXISTS passages_scope ON passages (workspace, scope);
CREATE INDEX IF NOT EXISTS passages_vec ON passages (vec_rev) WHERE vec_rev IS NOT NULL;

{_memory_triggers("passages", "text", tags=True)}
CREATE TABLE IF NOT EXISTS summaries (
    agent_id TEXT NOT NULL,
    workspace TEXT NOT NULL,
    channel TEXT NOT NULL,
    thread TEXT NOT NULL,
    scope TEXT NOT NULL,
    text TEXT NOT NULL,
    through_seq INTEGER NOT NULL,
    version INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (agent_id, workspace, channel, thread)
);
CREATE INDEX IF NOT EXISTS summaries_scope ON summaries (workspace, scope);

{STATE_TABLES}

-- Ratings of replies (engine.store.feedback): one per person per reply.
CREATE TABLE IF NOT EXISTS feedback (
    reply_id TEXT NOT NULL,
    user TEXT NOT NULL,
    rating TEXT NOT NULL,
    agent_id TEXT NOT NULL,
    workspace TEXT NOT NULL,
    channel TEXT NOT NULL,
    turn_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (reply_id, user)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS feedback_turn ON feedback (turn_id);
CREATE INDEX IF NOT EXISTS feedback_recent ON feedback (workspace, at);

-- Tool calls waiting for a person's approval (engine.store.approvals).
CREATE TABLE IF NOT EXISTS approvals (
    id TEXT PRIMARY KEY,
    agent_id TEXT NOT NULL,
    workspace TEXT NOT NULL,
    channel TEXT NOT NULL,
    thread TEXT NOT NULL,
    tool TEXT NOT NULL,
    arguments TEXT NOT NULL,
    requester TEXT NOT NULL,
    approvers TEXT NOT NULL,
    inbound TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    status TEXT NOT NULL,
    decided_by TEXT NOT NULL,
    decided_at INTEGER,
    source TEXT NOT NULL,
    result TEXT,
    resumed_at INTEGER
);
CREATE INDEX IF NOT EXISTS approvals_pending ON approvals (status, expires_at);
CREATE INDEX IF NOT EXISTS approvals_unresumed ON approvals (resumed_at, decided_at);

-- Lineage: record ``record_id`` of ``kind`` was derived from ``source`` (see engine.store.lineage).
{_link_table("lineage")}
CREATE INDEX IF NOT EXISTS lineage_source ON lineage (source);
-- Links written since the last move into ``lineage``, appended without a source index
-- (see engine.store.sqlite.lineage).
{_link_table("lineage_recent")}

-- Knowledge sources (see engine.store.sources): each chunk is also a row of ``passages``.
CREATE TABLE IF NOT EXISTS source_documents (
    id TEXT PRIMARY KEY,
    agent_id TEXT NOT NULL,
    workspace TEXT NOT NULL,
    scope TEXT NOT NULL,
    name TEXT NOT NULL,
    origin TEXT NOT NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    size INTEGER NOT NULL,
    chunks INTEGER NOT NULL,
    added_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    shared_by TEXT NOT NULL DEFAULT '[]',
    shares TEXT NOT NULL DEFAULT '[]'
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS source_documents_agent ON source_documents (agent_id, workspace, name);

CREATE TABLE IF NOT EXISTS source_chunks (
    id TEXT PRIMARY KEY,
    document_id TEXT NOT NULL,
    document_name TEXT NOT NULL,
    ordinal INTEGER NOT NULL,
    section TEXT NOT NULL,
    page INTEGER NOT NULL,
    content_hash TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS source_chunks_document ON source_chunks (document_id, ordinal);
"""
