"""Knowledge sources: documents in ``source_documents``, their chunks in ``source_chunks``."""

from __future__ import annotations

import builtins
from collections.abc import Sequence

from pymongo import ASCENDING, ReplaceOne

from engine.audience import Scope
from engine.store.lineage import batches
from engine.store.mongo._documents import (
    Collection,
    Document,
    as_document,
    as_record,
    delete_in,
    find_by_id,
    replace_or_insert,
)
from engine.store.sources import SourceChunk, SourceDocument


class MongoSources:
    def __init__(self, documents: Collection, chunks: Collection) -> None:
        self._documents = documents
        self._chunks = chunks

    async def put_document(self, document: SourceDocument) -> None:
        await replace_or_insert(self._documents, {"_id": document.id}, as_document(document))

    async def document(self, document_id: str) -> SourceDocument | None:
        return await find_by_id(self._documents, SourceDocument, document_id)

    async def documents(
        self, agent_id: str, workspace: str | None = None
    ) -> builtins.list[SourceDocument]:
        query: Document = {"agent_id": agent_id}
        if workspace is not None:
            query["workspace"] = workspace
        cursor = self._documents.find(query).sort([("name", ASCENDING), ("_id", ASCENDING)])
        return [as_record(SourceDocument, doc) async for doc in cursor]

    async def delete_document(self, document_id: str) -> bool:
        return (await self._documents.delete_one({"_id": document_id})).deleted_count > 0

    async def put_chunks(self, chunks: Sequence[SourceChunk]) -> None:
        if chunks:
            writes = [
                ReplaceOne({"_id": chunk.id}, as_document(chunk), upsert=True) for chunk in chunks
            ]
            await self._chunks.bulk_write(writes, ordered=False)

    async def chunks_of(self, document_id: str) -> builtins.list[SourceChunk]:
        cursor = self._chunks.find({"document_id": document_id}).sort("ordinal", ASCENDING)
        return [as_record(SourceChunk, doc) async for doc in cursor]

    async def chunks(self, passage_ids: Sequence[str]) -> builtins.list[SourceChunk]:
        found: builtins.list[SourceChunk] = []
        for batch in batches(sorted(set(passage_ids))):
            cursor = self._chunks.find({"_id": {"$in": list(batch)}})
            found += [as_record(SourceChunk, doc) async for doc in cursor]
        return found

    async def delete_user(self, workspace: str, user: str) -> int:
        query = {"workspace": workspace, "scope": str(Scope.dm(user))}
        ids = [str(doc["_id"]) async for doc in self._documents.find(query, {"_id": True})]
        if not ids:
            return 0
        await self._chunks.delete_many({"document_id": {"$in": ids}})
        return (await self._documents.delete_many({"_id": {"$in": ids}})).deleted_count

    async def delete_chunks(self, passage_ids: Sequence[str]) -> int:
        return await delete_in(self._chunks, "_id", passage_ids)

    async def shared_in_chat(self, workspace: str) -> builtins.list[SourceDocument]:
        cursor = self._documents.find({"workspace": workspace, "shares.0": {"$exists": True}})
        found = [as_record(SourceDocument, doc) async for doc in cursor]
        return sorted(found, key=lambda d: (d.name, d.id))

    async def shared_by(self, workspace: str, user: str) -> builtins.list[SourceDocument]:
        cursor = self._documents.find({"workspace": workspace, "shared_by": user})
        found = [as_record(SourceDocument, doc) async for doc in cursor]
        return sorted(found, key=lambda d: (d.name, d.id))
