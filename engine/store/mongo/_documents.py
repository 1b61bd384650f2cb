"""Record documents as MongoDB keeps them: the shared codec shape, keyed by ``_id``.

Timestamps stay the codec's sortable ISO strings, so records round-trip exactly; records that
are filtered inside ``$vectorSearch`` or expired by TTL also carry a BSON date, because Atlas
filters and TTL indexes only understand dates.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

type Document = dict[str, Any]
type Collection = AsyncCollection[Document]

#: BSON date copy of ``created_at`` (millisecond precision) for vector-search filters.
CREATED_DATE = "created_date"


def keyed(doc: Mapping[str, Any]) -> Document:
    """The codec document with its ``id`` moved to ``_id``."""
    stored = dict(doc)
    stored["_id"] = stored.pop("id")
    return stored


def unkeyed(doc: Mapping[str, Any]) -> Document:
    """A stored document back in the codec's shape (``id`` instead of ``_id``)."""
    plain = dict(doc)
    plain["id"] = plain.pop("_id")
    return plain


def with_created_date(doc: Document, created_at: datetime) -> Document:
    doc[CREATED_DATE] = created_at
    return doc
