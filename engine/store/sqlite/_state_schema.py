"""The SQLite tables of the durable queues and the typed state beside memory.

The inbox, its forget marks and refusals, the outbox, conversation leases, the turn journal,
agent mail, custom tools, job runs and state, and the platforms' delivery ledger. Times are
integer microseconds since the epoch (UTC), as everywhere in the schema.
"""

STATE_TABLES = """
CREATE TABLE IF NOT EXISTS inbox (
    pos INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    platform TEXT NOT NULL,
    agent_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    message_ref TEXT NOT NULL,
    kind TEXT NOT NULL,
    conversation TEXT NOT NULL,
    seq INTEGER NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    error TEXT NOT NULL,
    inbound TEXT NOT NULL
);
-- Dedupe is per agent: one message that mentions two agents is one item for each.
CREATE UNIQUE INDEX IF NOT EXISTS inbox_agent_event ON inbox (platform, agent_id, event_id);
CREATE UNIQUE INDEX IF NOT EXISTS inbox_agent_message
    ON inbox (platform, agent_id, channel, message_ref, kind) WHERE message_ref != '';
-- The keys without the agent, from files written before; the wider ones above replace them.
DROP INDEX IF EXISTS inbox_event;
DROP INDEX IF EXISTS inbox_message;
CREATE INDEX IF NOT EXISTS inbox_pending ON inbox (conversation, seq) WHERE status = 'pending';
-- Forgets that landed while an item's turn ran, to redo once the turn is written.
CREATE TABLE IF NOT EXISTS inbox_forget_marks (
    item_id TEXT NOT NULL,
    mark TEXT NOT NULL,
    PRIMARY KEY (item_id, mark)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS inbox_rejected (
    pos INTEGER PRIMARY KEY AUTOINCREMENT,
    platform TEXT NOT NULL,
    raw TEXT NOT NULL,
    error TEXT NOT NULL,
    received_at INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS outbox (
    pos INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    inbox_id TEXT NOT NULL,
    idx INTEGER NOT NULL,
    reply TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at INTEGER,
    platform_ref TEXT NOT NULL,
    error TEXT NOT NULL,
    -- Who is delivering the reply, until when (wall-clock seconds, like leases).
    claimed_by TEXT NOT NULL DEFAULT '',
    claimed_until REAL NOT NULL DEFAULT 0,
    UNIQUE (inbox_id, idx)
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (created_at) WHERE status = 'pending';

CREATE TABLE IF NOT EXISTS leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires REAL NOT NULL,
    -- Another holder was refused the lease while it was held: it has work waiting.
    wanted INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE IF NOT EXISTS kv (
    namespace TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (namespace, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS turn_journal (
    head TEXT PRIMARY KEY,
    items TEXT NOT NULL,
    outcome TEXT NOT NULL,
    messages TEXT NOT NULL,
    replies TEXT NOT NULL,
    error TEXT NOT NULL,
    links TEXT NOT NULL DEFAULT '[]'
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS agent_mail (
    id TEXT PRIMARY KEY,
    sender TEXT NOT NULL,
    sender_name TEXT NOT NULL,
    recipient TEXT NOT NULL,
    audience TEXT NOT NULL,
    hops INTEGER NOT NULL,
    mode TEXT NOT NULL,
    origin TEXT,
    answered_by TEXT NOT NULL,
    -- The audience's workspace and DM user again, for ``forget``.
    workspace TEXT NOT NULL,
    dm_user TEXT
);
CREATE INDEX IF NOT EXISTS agent_mail_dm ON agent_mail (workspace, dm_user)
    WHERE dm_user IS NOT NULL;

CREATE TABLE IF NOT EXISTS custom_tools (
    name TEXT PRIMARY KEY,
    description TEXT NOT NULL,
    parameters TEXT NOT NULL,
    source TEXT NOT NULL,
    function TEXT NOT NULL,
    origin TEXT NOT NULL,
    enums TEXT NOT NULL,
    version INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS job_runs (
    key TEXT PRIMARY KEY,
    id TEXT NOT NULL,
    job TEXT NOT NULL,
    target TEXT NOT NULL,
    workspace TEXT NOT NULL,
    scope TEXT,
    holder TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    started_at INTEGER NOT NULL,
    status TEXT NOT NULL,
    ended_at INTEGER,
    tokens INTEGER NOT NULL,
    detail TEXT NOT NULL,
    error TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS job_runs_started ON job_runs (started_at);
CREATE INDEX IF NOT EXISTS job_runs_scope ON job_runs (workspace, scope);

CREATE TABLE IF NOT EXISTS job_targets (
    job TEXT NOT NULL,
    target TEXT NOT NULL,
    slot INTEGER NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    run_key TEXT NOT NULL,
    workspace TEXT NOT NULL,
    scope TEXT,
    retry_at INTEGER,
    PRIMARY KEY (job, target)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS job_backoffs (
    job TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    retry_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS job_checkpoints (
    job TEXT NOT NULL,
    key TEXT NOT NULL,
    workspace TEXT NOT NULL,
    scope TEXT NOT NULL,
    seq INTEGER NOT NULL,
    at INTEGER,
    PRIMARY KEY (job, key)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS delivery_ledger (
    reply_id TEXT PRIMARY KEY,
    platform TEXT NOT NULL,
    channel TEXT NOT NULL,
    posted TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS delivery_ledger_created ON delivery_ledger (created_at);
"""
