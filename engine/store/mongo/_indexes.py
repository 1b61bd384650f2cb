"""Every ordinary index the store's queries rely on, created idempotently by ``setup``.

Unique indexes carry the identities that make racing writers agree (block keys, inbox
dedupe, outbox replies, summaries); the others match one query each.
"""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING, TEXT, IndexModel
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import OperationFailure

from engine.store.mongo._documents import Document

#: Rejected events are kept this long for the operator, then expire.
REJECTED_TTL_SECONDS = 30 * 24 * 3600

_NON_EMPTY = {"$gt": ""}

#: What makes a core-memory part one part: racing creators of it agree on the first.
BLOCK_IDENTITY = ("owner", "workspace", "label", "subject", "scope")
#: What makes a conversation one conversation (its summary is unique on it).
CONVERSATION = ("agent_id", "workspace", "channel", "thread")


def _index(name: str, *keys: str, **options: Any) -> IndexModel:
    """An index named ``name`` on ``keys`` in order: each ascending, or descending when
    written ``-key``; ``options`` as ``create_indexes`` takes them (``unique``, ...)."""
    spec = [(key[1:], DESCENDING) if key.startswith("-") else (key, ASCENDING) for key in keys]
    return IndexModel(spec, name=name, **options)


def _text_index(name: str, key: str) -> IndexModel:
    return IndexModel([(key, TEXT)], name=name)


INDEXES: dict[str, list[IndexModel]] = {
    "agents": [_index("by_name", "name")],
    "blocks": [
        _index("part_identity", *BLOCK_IDENTITY, unique=True),
        _index("by_subject", "workspace", "subject"),
        _index("by_scope", "workspace", "scope"),
    ],
    "messages": [
        _index("conversation_order", *CONVERSATION, "-seq"),
        _index("visible_order", "agent_id", "workspace", "scope", "-seq"),
        _index("platform_ref", "workspace", "channel", "platform_ref"),
        _index("by_author", "workspace", "author"),
        _index("by_age", "workspace", "created_at"),
        _text_index("content_text", "content"),
    ],
    "passages": [
        _index("visible_order", "agent_id", "workspace", "scope", "-created_at"),
        _index("by_user", "workspace", "users"),
        _text_index("text_text", "text"),
    ],
    "summaries": [
        _index("conversation", *CONVERSATION, unique=True),
    ],
    "inbox": [
        _index(
            "agent_event_identity",
            "platform",
            "agent_id",
            "event_id",
            unique=True,
            partialFilterExpression={"event_id": _NON_EMPTY},
        ),
        _index(
            "agent_message_identity",
            "platform",
            "agent_id",
            "channel",
            "message_ref",
            "kind",
            unique=True,
            partialFilterExpression={"message_ref": _NON_EMPTY},
        ),
        _index("pending_order", "status", "conversation", "seq"),
        # Few items carry forget marks, and only until their forget is redone.
        _index("forget_marks", "forgotten", sparse=True),
    ],
    "inbox_rejected": [
        _index("expiry", "received_date", expireAfterSeconds=REJECTED_TTL_SECONDS),
    ],
    "outbox": [
        _index("reply_identity", "inbox_id", "index", unique=True),
        _index("due_order", "status", "next_attempt_at", "seq"),
    ],
    "job_runs": [
        _index("by_job", "job", "-_id"),
        _index("newest_first", "-started_at"),
        _index("by_scope", "workspace", "scope"),
    ],
    "job_targets": [
        _index("target", "job", "target", unique=True),
        _index("by_scope", "workspace", "scope"),
    ],
    "job_checkpoints": [
        _index("checkpoint", "job", "key", unique=True),
        _index("by_scope", "workspace", "scope"),
    ],
    "agent_mail": [_index("by_user", "audience.workspace", "audience.user")],
    "delivery_ledger": [_index("by_created", "created_at")],
    "feedback": [_index("by_turn", "turn_id"), _index("by_workspace", "workspace", "at")],
    "approvals": [
        _index("pending", "status", "expires_at"),
        _index("unresumed", "resumed_at", "decided_at"),
    ],
    "kv": [_index("namespace_key", "namespace", "key", unique=True)],
    "lineage": [
        _index("by_record", "kind", "record_id"),
        _index("by_source", "source"),
    ],
    "source_documents": [_index("by_agent", "agent_id", "workspace", "name")],
    "source_chunks": [_index("by_document", "document_id", "ordinal")],
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
