"""Every ordinary index the store's queries rely on, created idempotently by ``setup``.

Unique indexes carry the identities that make racing writers agree (block keys, inbox
dedupe, outbox replies, summaries); the others match one query each.
"""

from __future__ import annotations

from pymongo import ASCENDING, DESCENDING, TEXT, IndexModel
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import OperationFailure

from engine.store.mongo._documents import Document

#: Rejected events are kept this long for the operator, then expire.
REJECTED_TTL_SECONDS = 30 * 24 * 3600

_NON_EMPTY = {"$gt": ""}

INDEXES: dict[str, list[IndexModel]] = {
    "agents": [IndexModel([("name", ASCENDING)], name="by_name")],
    "blocks": [
        IndexModel(
            [
                ("owner", ASCENDING),
                ("workspace", ASCENDING),
                ("label", ASCENDING),
                ("subject", ASCENDING),
                ("scope", ASCENDING),
            ],
            name="part_identity",
            unique=True,
        ),
        IndexModel([("workspace", ASCENDING), ("subject", ASCENDING)], name="by_subject"),
        IndexModel([("workspace", ASCENDING), ("scope", ASCENDING)], name="by_scope"),
    ],
    "messages": [
        IndexModel(
            [
                ("agent_id", ASCENDING),
                ("workspace", ASCENDING),
                ("channel", ASCENDING),
                ("thread", ASCENDING),
                ("seq", DESCENDING),
            ],
            name="conversation_order",
        ),
        IndexModel(
            [
                ("agent_id", ASCENDING),
                ("workspace", ASCENDING),
                ("scope", ASCENDING),
                ("seq", DESCENDING),
            ],
            name="visible_order",
        ),
        IndexModel(
            [("workspace", ASCENDING), ("channel", ASCENDING), ("platform_ref", ASCENDING)],
            name="platform_ref",
        ),
        IndexModel([("workspace", ASCENDING), ("author", ASCENDING)], name="by_author"),
        IndexModel([("workspace", ASCENDING), ("created_at", ASCENDING)], name="by_age"),
        IndexModel([("content", TEXT)], name="content_text"),
    ],
    "passages": [
        IndexModel(
            [
                ("agent_id", ASCENDING),
                ("workspace", ASCENDING),
                ("scope", ASCENDING),
                ("created_at", DESCENDING),
            ],
            name="visible_order",
        ),
        IndexModel([("workspace", ASCENDING), ("users", ASCENDING)], name="by_user"),
        IndexModel([("text", TEXT)], name="text_text"),
    ],
    "summaries": [
        IndexModel(
            [
                ("agent_id", ASCENDING),
                ("workspace", ASCENDING),
                ("channel", ASCENDING),
                ("thread", ASCENDING),
            ],
            name="conversation",
            unique=True,
        ),
    ],
    "inbox": [
        IndexModel(
            [("platform", ASCENDING), ("agent_id", ASCENDING), ("event_id", ASCENDING)],
            name="agent_event_identity",
            unique=True,
            partialFilterExpression={"event_id": _NON_EMPTY},
        ),
        IndexModel(
            [
                ("platform", ASCENDING),
                ("agent_id", ASCENDING),
                ("channel", ASCENDING),
                ("message_ref", ASCENDING),
                ("kind", ASCENDING),
            ],
            name="agent_message_identity",
            unique=True,
            partialFilterExpression={"message_ref": _NON_EMPTY},
        ),
        IndexModel(
            [("status", ASCENDING), ("conversation", ASCENDING), ("seq", ASCENDING)],
            name="pending_order",
        ),
    ],
    "inbox_rejected": [
        IndexModel(
            [("received_date", ASCENDING)],
            name="expiry",
            expireAfterSeconds=REJECTED_TTL_SECONDS,
        ),
    ],
    "outbox": [
        IndexModel(
            [("inbox_id", ASCENDING), ("index", ASCENDING)], name="reply_identity", unique=True
        ),
        IndexModel(
            [("status", ASCENDING), ("next_attempt_at", ASCENDING), ("seq", ASCENDING)],
            name="due_order",
        ),
    ],
    "job_runs": [
        IndexModel([("job", ASCENDING), ("_id", DESCENDING)], name="by_job"),
        IndexModel([("started_at", DESCENDING)], name="newest_first"),
        IndexModel([("workspace", ASCENDING), ("scope", ASCENDING)], name="by_scope"),
    ],
    "job_targets": [
        IndexModel([("job", ASCENDING), ("target", ASCENDING)], name="target", unique=True),
        IndexModel([("workspace", ASCENDING), ("scope", ASCENDING)], name="by_scope"),
    ],
    "job_checkpoints": [
        IndexModel([("job", ASCENDING), ("key", ASCENDING)], name="checkpoint", unique=True),
        IndexModel([("workspace", ASCENDING), ("scope", ASCENDING)], name="by_scope"),
    ],
    "agent_mail": [
        IndexModel(
            [("audience.workspace", ASCENDING), ("audience.user", ASCENDING)], name="by_user"
        ),
    ],
    "delivery_ledger": [IndexModel([("created_at", ASCENDING)], name="by_created")],
    "kv": [
        IndexModel(
            [("namespace", ASCENDING), ("key", ASCENDING)], name="namespace_key", unique=True
        ),
    ],
}


#: Inbox keys without the agent, created by earlier versions; the agent-keyed ones replace them.
RETIRED_INBOX_INDEXES = frozenset({"event_identity", "message_identity"})

#: The server's code for dropping an index that is not there (another replica dropped it).
_INDEX_NOT_FOUND = 27


async def ensure_indexes(database: AsyncDatabase[Document]) -> None:
    """Create every collection's indexes and drop retired ones; a no-op once done."""
    inbox = database["inbox"]
    retired = RETIRED_INBOX_INDEXES & await _index_names(inbox)
    if retired:
        # Items from before get their agent while the old keys still hold, so no new item can
        # clash with an old one under the new keys.
        await inbox.update_many(
            {"agent_id": {"$exists": False}}, [{"$set": {"agent_id": "$inbound.agent_id"}}]
        )
    for collection, models in INDEXES.items():
        await database[collection].create_indexes(models)
    for name in sorted(retired):
        try:
            await inbox.drop_index(name)
        except OperationFailure as error:
            if error.code != _INDEX_NOT_FOUND:
                raise


async def _index_names(collection: AsyncCollection[Document]) -> set[str]:
    return {str(index["name"]) async for index in await collection.list_indexes()}
