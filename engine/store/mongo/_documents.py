"""Record documents as MongoDB keeps them: the codec's shape, keyed by ``_id``.

Timestamps stay the codec's sortable ISO strings, so records round-trip exactly; records that
are filtered inside ``$vectorSearch`` or expired by TTL also carry a BSON date, because Atlas
filters and TTL indexes only understand dates. Fields a store keeps beside a record (that
date, insertion order) are ignored when the record is read back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from engine.store.codec import decode, encode
from engine.store.lineage import batches

type Document = dict[str, Any]
type Collection = AsyncCollection[Document]

#: BSON date copy of ``created_at`` (millisecond precision) for vector-search filters.
CREATED_DATE = "created_date"


async def delete_in(collection: Collection, field: str, values: Sequence[str]) -> int:
    """Delete the documents whose ``field`` is one of ``values`` (in batches); how many went."""
    removed = 0
    for batch in batches(sorted(set(values))):
        removed += (await collection.delete_many({field: {"$in": list(batch)}})).deleted_count
    return removed


def as_document(record: object) -> Document:
    """``record`` (one with an ``id``) as it is stored: its ``id`` is the ``_id``."""
    doc = encode(record)
    doc["_id"] = doc.pop("id")
    return doc


def as_record[T](cls: type[T], doc: Mapping[str, Any]) -> T:
    """The ``cls`` record stored as ``doc`` (one with an ``_id``)."""
    plain = dict(doc)
    plain["id"] = plain.pop("_id")
    return decode(cls, plain)


async def find_by_id[T](collection: Collection, cls: type[T], record_id: str) -> T | None:
    """The ``cls`` record stored (by ``as_document``) under ``record_id``, if there is one."""
    doc = await collection.find_one({"_id": record_id})
    return None if doc is None else as_record(cls, doc)


async def find_record[T](collection: Collection, cls: type[T], query: Document) -> T | None:
    """The ``cls`` record kept whole (``encode``) in the document ``query`` matches, if any;
    such a document's ``_id`` is the store's key for it, not one of the record's fields."""
    doc = await collection.find_one(query, {"_id": False})
    return None if doc is None else decode(cls, doc)


def matching(doc: Document, keys: Sequence[str]) -> Document:
    """The filter for the stored document with ``doc``'s values under ``keys`` (an identity
    a unique index keeps)."""
    return {key: doc[key] for key in keys}


def with_created_date(doc: Document, created_at: datetime) -> Document:
    doc[CREATED_DATE] = created_at
    return doc


async def replace_or_insert(collection: Collection, where: Document, doc: Document) -> None:
    """Replace the document matching ``where`` with ``doc``, inserting it when there is none.

    Two first writers can race on a unique key; the loser's retry then replaces.
    """
    try:
        await collection.replace_one(where, doc, upsert=True)
    except DuplicateKeyError:
        await collection.replace_one(where, doc, upsert=True)
