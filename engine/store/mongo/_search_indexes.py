"""Atlas ``vectorSearch`` indexes: what they cover and how they get created.

Creating a search index is server-specific (Atlas and Atlas Local take
``createSearchIndexes``; a plain ``mongod`` has no search at all), so the store takes a
``SearchIndexCreator`` and uses the driver's one unless told otherwise.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Protocol

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import OperationFailure
from pymongo.operations import SearchIndexModel

from engine.store.mongo._documents import CREATED_DATE, Document
from engine.store.mongo._vector import VECTOR_INDEX

log = logging.getLogger(__name__)

#: Collections whose documents carry an ``embedding`` and the fields their search filters on.
VECTOR_COLLECTIONS: dict[str, tuple[str, ...]] = {
    "passages": ("agent_id", "workspace", "scope", CREATED_DATE, "tags", "users"),
    "messages": ("agent_id", "workspace", "scope", CREATED_DATE, "channel", "author"),
}


def vector_index_definition(dimensions: int, filter_fields: tuple[str, ...]) -> Document:
    """A cosine ``vectorSearch`` index on ``embedding`` with the given filter fields."""
    fields: list[Document] = [
        {
            "type": "vector",
            "path": "embedding",
            "numDimensions": dimensions,
            "similarity": "cosine",
        }
    ]
    fields.extend({"type": "filter", "path": name} for name in filter_fields)
    return {"fields": fields}


class SearchIndexCreator(Protocol):
    """Makes sure a named search index exists; False when the server cannot have one."""

    async def ensure(self, collection: str, name: str, definition: Document) -> bool: ...


class DriverSearchIndexes:
    """Search indexes through the driver (``listSearchIndexes`` / ``createSearchIndexes``).

    An existing index whose vector size differs from the wanted one is updated (the embedder
    changed); any other existing index is left as it is.
    """

    def __init__(self, database: AsyncDatabase[Document]) -> None:
        self._database = database
        self._unsupported_reported = False

    async def ensure(self, collection: str, name: str, definition: Document) -> bool:
        target = self._database[collection]
        try:
            existing = [index async for index in await target.list_search_indexes(name)]
            if not existing:
                await target.create_search_indexes(
                    [SearchIndexModel(definition, name=name, type="vectorSearch")]
                )
            elif _dimensions(existing[0].get("latestDefinition", {})) != _dimensions(definition):
                await target.update_search_index(name, definition)
        except OperationFailure as error:
            if not self._unsupported_reported:
                self._unsupported_reported = True
                log.info(
                    "MongoDB cannot create search indexes (%s); vector search will rank "
                    "in-process unless an index exists",
                    error.details.get("errmsg", error) if error.details else error,
                )
            return False
        return True


def _dimensions(definition: Mapping[str, Any]) -> int | None:
    for field in definition.get("fields", ()):
        if field.get("type") == "vector" and "numDimensions" in field:
            return int(field["numDimensions"])
    return None


async def ensure_vector_indexes(creator: SearchIndexCreator, dimensions: int) -> bool:
    """Create the vector index of every embedding collection; True when all exist."""
    created = True
    for collection, filter_fields in VECTOR_COLLECTIONS.items():
        definition = vector_index_definition(dimensions, filter_fields)
        created = await creator.ensure(collection, VECTOR_INDEX, definition) and created
    return created
