"""Recall memory in the ``messages`` collection: every message of every conversation."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime

from pymongo import ASCENDING, DESCENDING, UpdateOne

from engine.audience import Scope
from engine.records import ConversationKey, Message
from engine.store.codec import decode, decode_datetime, encode, encode_datetime
from engine.store.mongo._documents import (
    CREATED_DATE,
    Collection,
    Document,
    keyed,
    unkeyed,
    with_created_date,
)
from engine.store.mongo._filters import vector_prefilter, visible_query
from engine.store.mongo._queries import ignore_duplicates, text_ranked
from engine.store.mongo._vector import VectorRanking
from engine.store.protocol import ConversationActivity, RecordFilter, Scored

#: Fields kept beside the record that the record itself does not have.
_EXTRA_FIELDS = (CREATED_DATE, "embedding")


def _message(doc: Document) -> Message:
    for name in _EXTRA_FIELDS:
        doc.pop(name, None)
    return decode(Message, unkeyed(doc))


def _conversation_query(conversation: ConversationKey) -> Document:
    return {
        "agent_id": conversation.agent_id,
        "workspace": conversation.workspace,
        "channel": conversation.channel,
        "thread": conversation.thread,
    }


def _visible(where: RecordFilter) -> Document:
    return visible_query(where, messages=True)


class MongoMessages:
    def __init__(self, collection: Collection) -> None:
        self._messages = collection
        self._vectors = VectorRanking(collection)

    async def append(self, messages: Sequence[Message]) -> None:
        docs = [with_created_date(keyed(encode(m)), m.created_at) for m in messages]
        if docs:
            with ignore_duplicates():
                await self._messages.insert_many(docs, ordered=False)

    async def recent(
        self, conversation: ConversationKey, after_seq: int, limit: int
    ) -> builtins.list[Message]:
        if limit <= 0:
            return []
        query = _conversation_query(conversation) | {"seq": {"$gt": after_seq}}
        cursor = self._messages.find(query).sort("seq", DESCENDING).limit(limit)
        newest_first = [_message(doc) async for doc in cursor]
        return newest_first[::-1]

    async def between(
        self, conversation: ConversationKey, after_seq: int, through_seq: int
    ) -> builtins.list[Message]:
        query = _conversation_query(conversation) | {"seq": {"$gt": after_seq, "$lte": through_seq}}
        return [_message(doc) async for doc in self._messages.find(query).sort("seq", ASCENDING)]

    async def search_text(
        self, where: RecordFilter, query: str, limit: int
    ) -> builtins.list[Scored[Message]]:
        ranked = await text_ranked(self._messages, _visible(where), query, limit)
        return [Scored(_message(doc), score) for doc, score in ranked]

    async def search_vector(
        self, where: RecordFilter, vector: Sequence[float], limit: int
    ) -> builtins.list[Scored[Message]]:
        prefilter = vector_prefilter(where, messages=True)
        ranked = await self._vectors.nearest(prefilter, _visible(where), vector, limit)
        return [Scored(_message(doc), score) for doc, score in ranked]

    async def set_embeddings(self, embeddings: Sequence[tuple[str, Sequence[float]]]) -> None:
        updates = [
            UpdateOne({"_id": message_id}, {"$set": {"embedding": [float(x) for x in vector]}})
            for message_id, vector in embeddings
        ]
        if updates:
            await self._messages.bulk_write(updates, ordered=False)

    async def list(
        self, where: RecordFilter, limit: int, before_seq: int | None = None
    ) -> builtins.list[Message]:
        if limit <= 0:
            return []
        query = _visible(where)
        if before_seq is not None:
            query["seq"] = {"$lt": before_seq}
        cursor = self._messages.find(query).sort("seq", DESCENDING).limit(limit)
        return [_message(doc) async for doc in cursor]

    async def count(self, where: RecordFilter) -> int:
        return await self._messages.count_documents(_visible(where))

    async def edit(self, workspace: str, channel: str, platform_ref: str, content: str) -> int:
        if not platform_ref:
            return 0
        # The old embedding described the old text; it is dropped rather than left stale.
        result = await self._messages.update_many(
            _ref_query(workspace, channel, platform_ref),
            {"$set": {"content": content}, "$unset": {"embedding": ""}},
        )
        return result.matched_count

    async def delete_ref(self, workspace: str, channel: str, platform_ref: str) -> int:
        if not platform_ref:
            return 0
        result = await self._messages.delete_many(_ref_query(workspace, channel, platform_ref))
        return result.deleted_count

    async def delete_user(self, workspace: str, user: str) -> int:
        result = await self._messages.delete_many(
            {"workspace": workspace, "$or": [{"author": user}, {"scope": str(Scope.dm(user))}]}
        )
        return result.deleted_count

    async def delete_before(self, workspace: str, before: datetime) -> int:
        result = await self._messages.delete_many(
            {"workspace": workspace, "created_at": {"$lt": encode_datetime(before)}}
        )
        return result.deleted_count

    async def conversations_since(
        self, after: datetime, before: datetime | None = None
    ) -> builtins.list[ConversationActivity]:
        window: Document = {"$gt": encode_datetime(after)}
        if before is not None:
            window["$lt"] = encode_datetime(before)
        pipeline: builtins.list[Document] = [
            {"$match": {"created_at": window}},
            {
                "$group": {
                    "_id": {
                        "agent_id": "$agent_id",
                        "workspace": "$workspace",
                        "channel": "$channel",
                        "thread": "$thread",
                    },
                    "scope": {"$max": "$scope"},
                    "messages": {"$sum": 1},
                    "last_seq": {"$max": "$seq"},
                    "last_at": {"$max": "$created_at"},
                }
            },
        ]
        cursor = await self._messages.aggregate(pipeline)
        return [
            ConversationActivity(
                ConversationKey(
                    doc["_id"]["agent_id"],
                    doc["_id"]["workspace"],
                    doc["_id"]["channel"],
                    doc["_id"]["thread"],
                ),
                scope=Scope.parse(doc["scope"]),
                messages=int(doc["messages"]),
                last_seq=int(doc["last_seq"]),
                last_at=decode_datetime(doc["last_at"]),
            )
            async for doc in cursor
        ]


def _ref_query(workspace: str, channel: str, platform_ref: str) -> Document:
    return {"workspace": workspace, "channel": channel, "platform_ref": platform_ref}
