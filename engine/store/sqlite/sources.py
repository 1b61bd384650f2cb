"""Knowledge sources: documents in ``source_documents``, their chunks in ``source_chunks``."""

from __future__ import annotations

import builtins
import sqlite3
from collections.abc import Sequence

from engine.audience import Scope
from engine.store.lineage import batches
from engine.store.sources import SourceChunk, SourceDocument
from engine.store.sqlite._columns import Columns
from engine.store.sqlite._database import Database, write
from engine.store.sqlite._filters import placeholders
from engine.store.sqlite._table import RecordTable


class SQLiteSourceStore:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._documents = RecordTable(db, "source_documents", Columns(SourceDocument))
        self._chunks = RecordTable(db, "source_chunks", Columns(SourceChunk))

    async def put_document(self, document: SourceDocument) -> None:
        await self._documents.add(document, replace=True)

    async def document(self, document_id: str) -> SourceDocument | None:
        return await self._documents.fetch(document_id)

    async def documents(
        self, agent_id: str, workspace: str | None = None
    ) -> builtins.list[SourceDocument]:
        if workspace is None:
            return await self._documents.fetch_all("agent_id = ?", (agent_id,), "ORDER BY name")
        return await self._documents.fetch_all(
            "agent_id = ? AND workspace = ?", (agent_id, workspace), "ORDER BY name"
        )

    async def delete_document(self, document_id: str) -> bool:
        return await self._documents.delete_where("id = ?", (document_id,)) > 0

    async def put_chunks(self, chunks: Sequence[SourceChunk]) -> None:
        if not chunks:
            return
        sql = self._chunks.insert_sql(replace=True)
        rows = [self._chunks.columns.row(chunk) for chunk in chunks]

        def insert(conn: sqlite3.Connection) -> None:
            with write(conn):
                conn.executemany(sql, rows)

        await self._db.run(insert)

    async def chunks_of(self, document_id: str) -> builtins.list[SourceChunk]:
        return await self._chunks.fetch_all("document_id = ?", (document_id,), "ORDER BY ordinal")

    async def chunks(self, passage_ids: Sequence[str]) -> builtins.list[SourceChunk]:
        found: builtins.list[SourceChunk] = []
        for batch in batches(sorted(set(passage_ids))):
            found += await self._chunks.fetch_all(f"id IN ({placeholders(len(batch))})", batch)
        return found

    async def delete_user(self, workspace: str, user: str) -> int:
        where = "workspace = ? AND scope = ?"
        params = (workspace, str(Scope.dm(user)))

        def delete(conn: sqlite3.Connection) -> int:
            with write(conn):
                conn.execute(
                    "DELETE FROM source_chunks WHERE document_id IN "
                    f"(SELECT id FROM source_documents WHERE {where})",
                    params,
                )
                return conn.execute(f"DELETE FROM source_documents WHERE {where}", params).rowcount

        return await self._db.run(delete)

    async def delete_chunks(self, passage_ids: Sequence[str]) -> int:
        removed = 0
        for batch in batches(sorted(set(passage_ids))):
            removed += await self._chunks.delete_where(f"id IN ({placeholders(len(batch))})", batch)
        return removed

    async def shared_in_chat(self, workspace: str) -> builtins.list[SourceDocument]:
        return await self._documents.fetch_all(
            "workspace = ? AND shares != '[]'", (workspace,), "ORDER BY name"
        )

    async def shared_by(self, workspace: str, user: str) -> builtins.list[SourceDocument]:
        return await self._documents.fetch_all(
            "workspace = ? AND EXISTS (SELECT 1 FROM json_each(shared_by) WHERE value = ?)",
            (workspace, user),
            "ORDER BY name",
        )
