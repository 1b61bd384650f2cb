"""A turn's context read in one aggregate: blocks, summary, newest messages and counts.

Each part is one branch of a ``$unionWith`` chain, tagged with the part it answers, so the
round trips of a context read do not grow with its parts (and embeddings stay on the server).
"""

from __future__ import annotations

from dataclasses import dataclass

from pymongo import DESCENDING

from engine.records import Message, Summary
from engine.store.codec import decode
from engine.store.mongo._blocks import MongoBlocks
from engine.store.mongo._documents import Collection, Document, as_record
from engine.store.mongo._filters import conversation_query, visible_query
from engine.store.protocol import ContextQuery, ContextRead

_PART = "_part"
_COUNTED = {"$group": {"_id": None, "n": {"$sum": 1}}}


def _tagged(part: str) -> Document:
    return {"$set": {_PART: part}}


def _branch(collection: Collection, part: str, pipeline: list[Document]) -> Document:
    return {"$unionWith": {"coll": collection.name, "pipeline": [*pipeline, _tagged(part)]}}


@dataclass(frozen=True, slots=True)
class MongoContextReads:
    blocks: MongoBlocks
    summaries: Collection
    messages: Collection
    passages: Collection

    async def read(self, query: ContextQuery) -> ContextRead:
        key = conversation_query(query.conversation)
        seen = visible_query(query.where, messages=True)
        archived = visible_query(query.where, messages=False)
        limit = query.limit
        pipeline: list[Document] = [
            *self.blocks.selected(query.blocks),
            _tagged("block"),
            _branch(self.summaries, "summary", [{"$match": key}, {"$limit": 1}]),
            _branch(
                self.messages,
                "message",
                [
                    {"$match": key},
                    {"$sort": {"seq": DESCENDING}},
                    {"$limit": max(limit, 1)},
                    {"$project": {"embedding": False}},
                ],
            ),
            _branch(self.messages, "messages", [{"$match": seen}, _COUNTED]),
            _branch(self.passages, "passages", [{"$match": archived}, _COUNTED]),
            _branch(
                self.passages,
                "tag",
                [
                    {"$match": archived},
                    {"$unwind": "$tags"},
                    {"$group": {"_id": "$tags", "n": {"$sum": 1}}},
                ],
            ),
        ]
        parts: dict[str, list[Document]] = {}
        async for doc in await self.blocks.collection.aggregate(pipeline):
            parts.setdefault(doc.pop(_PART), []).append(doc)
        summaries = parts.get("summary", [])
        summary = _summary(summaries[0]) if summaries else None
        # The newest messages hold every one after the summary when the summary reaches into
        # them, and are all after it otherwise: the same as reading after it.
        after = summary.through_seq if summary else 0
        newest_first = parts.get("message", []) if limit > 0 else []
        return ContextRead(
            blocks=self.blocks.records(parts.get("block", [])),
            summary=summary,
            recent=[as_record(Message, d) for d in reversed(newest_first) if d["seq"] > after],
            messages=_count(parts.get("messages", [])),
            passages=_count(parts.get("passages", [])),
            tags={str(doc["_id"]): int(doc["n"]) for doc in parts.get("tag", [])},
        )


def _summary(doc: Document) -> Summary:
    del doc["_id"]
    return decode(Summary, doc)


def _count(docs: list[Document]) -> int:
    return int(docs[0]["n"]) if docs else 0
