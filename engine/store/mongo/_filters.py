"""RecordFilter -> MongoDB query, the one place the privacy rule becomes a filter.

Every memory read goes through ``visible_query``: one agent, one workspace, the audience's
readable scopes, and the optional date range, channel, tags and user. Messages are about
their ``author`` and have a channel; passages are about their ``users`` and have tags.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from engine.records import ConversationKey
from engine.store.codec import encode, encode_datetime
from engine.store.mongo._documents import CREATED_DATE, Document
from engine.store.protocol import RecordFilter


def conversation_query(conversation: ConversationKey) -> Document:
    """The filter for the records of one conversation (messages, its summary): records keep
    the key's fields under the same names."""
    return encode(conversation)


def visible_query(where: RecordFilter, *, messages: bool) -> Document:
    """The exact filter for records ``where`` may see (dates compared as codec strings)."""
    query: Document = {
        "agent_id": where.agent_id,
        "workspace": where.workspace,
        "scope": {"$in": [str(s) for s in where.scopes]},
    }
    created: Document = {}
    if where.start is not None:
        created["$gte"] = encode_datetime(where.start)
    if where.end is not None:
        created["$lte"] = encode_datetime(where.end)
    if created:
        query["created_at"] = created
    if messages and where.channel is not None:
        query["channel"] = where.channel
    if not messages and where.tags:
        query["tags"] = {"$in": list(where.tags)}
    if where.user is not None:
        query["author" if messages else "users"] = where.user
    return query


def vector_prefilter(where: RecordFilter, *, messages: bool) -> Document:
    """The same filter in the operators an Atlas ``vectorSearch`` index accepts.

    Dates use the BSON copy, widened to whole milliseconds; the exact filter runs after.
    """
    clauses: list[Document] = [
        {"agent_id": {"$eq": where.agent_id}},
        {"workspace": {"$eq": where.workspace}},
        {"scope": {"$in": [str(s) for s in where.scopes]}},
    ]
    if where.start is not None:
        clauses.append({CREATED_DATE: {"$gte": _floor_ms(where.start)}})
    if where.end is not None:
        clauses.append({CREATED_DATE: {"$lte": _floor_ms(where.end) + timedelta(milliseconds=1)}})
    if messages and where.channel is not None:
        clauses.append({"channel": {"$eq": where.channel}})
    if not messages and where.tags:
        clauses.append({"tags": {"$in": list(where.tags)}})
    if where.user is not None:
        clauses.append({"author" if messages else "users": {"$eq": where.user}})
    return {"$and": clauses}


def _floor_ms(value: datetime) -> datetime:
    return value.replace(microsecond=value.microsecond - value.microsecond % 1000)
