"""The lineage index in the ``lineage`` collection, looked up by its ``source`` index."""

from __future__ import annotations

from collections.abc import Sequence

from engine.store.lineage import Derived, DerivedRecord, Link, batches
from engine.store.mongo._documents import Collection, Document
from engine.store.mongo._queries import ignore_duplicates

_KEYS = {"_id": False, "kind": True, "record_id": True}
_SOURCES = {"_id": False, "record_id": True, "source": True}


class MongoLineage:
    def __init__(self, collection: Collection) -> None:
        self._links = collection

    async def link(self, links: Sequence[Link]) -> None:
        docs: list[Document] = [
            {
                # The link itself is its key: recording it again is a duplicate, ignored.
                "_id": "\n".join((link.kind.value, link.record_id, link.source)),
                "kind": link.kind.value,
                "record_id": link.record_id,
                "source": link.source,
                "workspace": link.workspace,
            }
            for link in links
        ]
        if docs:
            with ignore_duplicates():
                await self._links.insert_many(docs, ordered=False)

    async def derived_from(self, sources: Sequence[str]) -> list[DerivedRecord]:
        found: set[tuple[str, str]] = set()
        for batch in batches(sorted(set(sources))):
            cursor = self._links.find({"source": {"$in": list(batch)}}, _KEYS)
            found.update([(doc["kind"], doc["record_id"]) async for doc in cursor])
        return [DerivedRecord(Derived(kind), record_id) for kind, record_id in sorted(found)]

    async def sources_of(self, kind: Derived, record_ids: Sequence[str]) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for batch in batches(sorted(set(record_ids))):
            query = {"kind": kind.value, "record_id": {"$in": list(batch)}}
            async for doc in self._links.find(
                query, {"_id": False, "record_id": True, "source": True}
            ):
                found.setdefault(doc["record_id"], []).append(doc["source"])
        return {record_id: sorted(sources) for record_id, sources in sorted(found.items())}

    async def unlink_records(self, kind: Derived, record_ids: Sequence[str]) -> int:
        return await self._delete("record_id", record_ids, {"kind": kind.value})

    async def unlink_sources(self, sources: Sequence[str]) -> int:
        return await self._delete("source", sources)

    async def _delete(self, field: str, values: Sequence[str], also: Document | None = None) -> int:
        removed = 0
        for batch in batches(sorted(set(values))):
            result = await self._links.delete_many((also or {}) | {field: {"$in": list(batch)}})
            removed += result.deleted_count
        return removed
