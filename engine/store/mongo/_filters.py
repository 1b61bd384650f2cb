"""RecordFilter -> MongoDB query, the one place the privacy rule becomes a filter.

Every memory read goes through ``visible_query``: one agent, one workspace, the audience's
readable scopes, and the optional date range, channel and tags.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from engine.store.codec import encode_datetime
from engine.store.mongo._documents import CREATED_DATE, Document
from engine.store.protocol import RecordFilter


def visible_query(where: RecordFilter, *, has_channel: bool, has_tags: bool) -> Document:
    """The exact filter for records ``where`` may see (dates compared as codec strings)."""
    query: Document = {
        "agent_id": where.agent_id,
        "workspace": where.workspace,
        "scope": {"$in": list(where.scopes)},
    }
    created: Document = {}
    if where.start is not None:
        created["$gte"] = encode_datetime(where.start)
    if where.end is not None:
        created["$lte"] = encode_datetime(where.end)
    if created:
        query["created_at"] = created
    if has_channel and where.channel is not None:
        query["channel"] = where.channel
    if has_tags and where.tags:
        query["tags"] = {"$in": list(where.tags)}
    return query


def vector_prefilter(where: RecordFilter, *, has_channel: bool, has_tags: bool) -> Document:
    """The same filter in the operators an Atlas ``vectorSearch`` index accepts.

    Dates use the BSON copy, widened to whole milliseconds; the exact filter runs after.
    """
    clauses: list[Document] = [
        {"agent_id": {"$eq": where.agent_id}},
        {"workspace": {"$eq": where.workspace}},
        {"scope": {"$in": list(where.scopes)}},
    ]
    if where.start is not None:
        clauses.append({CREATED_DATE: {"$gte": _floor_ms(where.start)}})
    if where.end is not None:
        clauses.append({CREATED_DATE: {"$lte": _floor_ms(where.end) + timedelta(milliseconds=1)}})
    if has_channel and where.channel is not None:
        clauses.append({"channel": {"$eq": where.channel}})
    if has_tags and where.tags:
        clauses.append({"tags": {"$in": list(where.tags)}})
    return {"$and": clauses}


def _floor_ms(value: datetime) -> datetime:
    return value.replace(microsecond=value.microsecond - value.microsecond % 1000)
