"""Recall memory in the ``messages`` collection: every message of every conversation."""

from __future__ import annotations

import asyncio
import builtins
from collections.abc import Sequence
from datetime import datetime

from pymongo import ASCENDING, DESCENDING, UpdateOne

from engine.audience import Scope
from engine.records import ConversationKey, Message
from engine.store.codec import decode_datetime, encode_datetime
from engine.store.lineage import REDACTED, Link, batches, redacted_calls
from engine.store.mongo._documents import Collection, Document, as_document, with_created_date
from engine.store.mongo._filters import conversation_query
from engine.store.mongo._lineage import MongoLineage
from engine.store.mongo._queries import MemoryCollection
from engine.store.protocol import ConversationActivity, RecordFilter

_NEWEST_FIRST = [("seq", DESCENDING)]


class MongoMessages(MemoryCollection[Message]):
    def __init__(self, collection: Collection, lineage: MongoLineage) -> None:
        super().__init__(collection, Message, messages=True)
        self._lineage = lineage

    async def append(
        self,
        messages: Sequence[Message],
        links: Sequence[Link] = (),
        embeddings: Sequence[tuple[str, Sequence[float]]] = (),
    ) -> None:
        """``MessageStore.append``, each message with its embedding (by id) when given."""
        vectors = {message_id: [float(x) for x in vector] for message_id, vector in embeddings}
        docs = [with_created_date(as_document(m), m.created_at) for m in messages]
        for doc in docs:
            if doc["_id"] in vectors:
                doc["embedding"] = vectors[doc["_id"]]
        await asyncio.gather(self.insert_new(docs), self._lineage.link(links))

    async def recent(
        self, conversation: ConversationKey, after_seq: int, limit: int
    ) -> builtins.list[Message]:
        if limit <= 0:
            return []
        query = conversation_query(conversation) | {"seq": {"$gt": after_seq}}
        newest_first = await self.find(query, _NEWEST_FIRST, limit)
        return newest_first[::-1]

    async def between(
        self, conversation: ConversationKey, after_seq: int, through_seq: int
    ) -> builtins.list[Message]:
        query = conversation_query(conversation) | {"seq": {"$gt": after_seq, "$lte": through_seq}}
        return await self.find(query, [("seq", ASCENDING)])

    async def around(
        self, conversation: ConversationKey, seq: int, limit: int
    ) -> builtins.list[Message]:
        query = conversation_query(conversation)
        before = await self.find(query | {"seq": {"$lt": seq}}, _NEWEST_FIRST, limit)
        after = await self.find(query | {"seq": {"$gte": seq}}, [("seq", ASCENDING)], limit)
        return [*before[::-1], *after]

    async def set_embeddings(self, embeddings: Sequence[tuple[str, Sequence[float]]]) -> None:
        updates = [
            UpdateOne({"_id": message_id}, {"$set": {"embedding": [float(x) for x in vector]}})
            for message_id, vector in embeddings
        ]
        if updates:
            await self.collection.bulk_write(updates, ordered=False)

    async def list(
        self, where: RecordFilter, limit: int, before_seq: int | None = None
    ) -> builtins.list[Message]:
        if limit <= 0:
            return []
        query = self.visible(where)
        if before_seq is not None:
            query["seq"] = {"$lt": before_seq}
        return await self.find(query, _NEWEST_FIRST, limit)

    async def edit(self, workspace: str, channel: str, platform_ref: str, content: str) -> int:
        if not platform_ref:
            return 0
        # The old embedding described the old text; it is dropped rather than left stale.
        result = await self.collection.update_many(
            _ref_query(workspace, channel, platform_ref),
            {"$set": {"content": content}, "$unset": {"embedding": ""}},
        )
        return result.matched_count

    async def delete_ref(self, workspace: str, channel: str, platform_ref: str) -> int:
        if not platform_ref:
            return 0
        return await self.delete_where(_ref_query(workspace, channel, platform_ref))

    async def delete_user(self, workspace: str, user: str) -> int:
        return await self.delete_where(_of_user(workspace, user))

    async def ids_of_user(self, workspace: str, user: str) -> builtins.list[str]:
        return await self._ids(_of_user(workspace, user))

    async def ids_of_ref(
        self, workspace: str, channel: str, platform_ref: str
    ) -> builtins.list[str]:
        return await self._ids(_ref_query(workspace, channel, platform_ref)) if platform_ref else []

    async def _ids(self, query: Document) -> builtins.list[str]:
        return [str(doc["_id"]) async for doc in self.collection.find(query, {"_id": True})]

    async def by_ids(self, message_ids: Sequence[str]) -> builtins.list[Message]:
        found: builtins.list[Message] = []
        for batch in batches(sorted(set(message_ids))):
            found += await self.find({"_id": {"$in": list(batch)}}, [("_id", ASCENDING)])
        return found

    async def redact(self, message_ids: Sequence[str]) -> dict[str, str]:
        turns: dict[str, str] = {}
        for batch in batches(sorted(set(message_ids))):
            query = {"_id": {"$in": list(batch)}}
            found = {
                doc["_id"]: doc
                async for doc in self.collection.find(query, {"tool_calls": True, "turn_id": True})
            }
            updates = [
                UpdateOne(
                    {"_id": doc["_id"]},
                    {
                        "$set": {
                            "content": REDACTED,
                            "tool_calls": redacted_calls(doc.get("tool_calls") or []),
                        },
                        "$unset": {"embedding": ""},
                    },
                )
                for doc in found.values()
            ]
            if updates:
                await self.collection.bulk_write(updates, ordered=False)
            turns.update((str(key), str(doc.get("turn_id", ""))) for key, doc in found.items())
        return turns

    async def delete_before(self, workspace: str, before: datetime) -> int:
        return await self.delete_where(
            {"workspace": workspace, "created_at": {"$lt": encode_datetime(before)}}
        )

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
        cursor = await self.collection.aggregate(pipeline)
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


def _of_user(workspace: str, user: str) -> Document:
    return {"workspace": workspace, "$or": [{"author": user}, {"scope": str(Scope.dm(user))}]}


def _ref_query(workspace: str, channel: str, platform_ref: str) -> Document:
    return {"workspace": workspace, "channel": channel, "platform_ref": platform_ref}
