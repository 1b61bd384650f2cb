"""Atlas ``vectorSearch`` indexes: what they cover and how they get created.

Creating a search index is server-specific (Atlas and Atlas Local take
``createSearchIndexes``; a plain ``mongod`` has no search at all), so the store takes a
``SearchIndexCreator`` and uses the driver's one unless told otherwise.
"""

from __future__ import annotations

import logging
from typing import Protocol

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import OperationFailure
from pymongo.operations import SearchIndexModel

from engine.store.mongo._documents import CREATED_DATE, Document
from engine.store.mongo._vector import VECTOR_INDEX

log = logging.getLogger(__name__)

#: Collections whose documents carry an ``embedding`` and the fields their search filters on.
VECTOR_COLLECTIONS: dict[str, tuple[str, ...]] = {
    "passages": ("agent_id", "workspace", "scope", CREATED_DATE, "tags"),
    "messages": ("agent_id", "workspace", "scope", CREATED_DATE, "channel"),
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
    """Search indexes through the driver (``listSearchIndexes`` / ``createSearchIndexes``)."""

    def __init__(self, database: AsyncDatabase[Document]) -> None:
        self._database = database

    async def ensure(self, collection: str, name: str, definition: Document) -> bool:
        target = self._database[collection]
        try:
            existing = {str(index["name"]) async for index in await target.list_search_indexes()}
            if name in existing:
                return True
            await target.create_search_indexes(
                [SearchIndexModel(definition, name=name, type="vectorSearch")]
            )
        except OperationFailure as error:
            log.info(
                "MongoDB cannot create search index %s.%s (%s); vector search will rank "
                "in-process unless the index exists",
                collection,
                name,
                error.details.get("errmsg", error) if error.details else error,
            )
            return False
        return True


async def ensure_vector_indexes(creator: SearchIndexCreator, dimensions: int) -> bool:
    """Create the vector index of every embedding collection; True when all exist."""
    created = True
    for collection, filter_fields in VECTOR_COLLECTIONS.items():
        definition = vector_index_definition(dimensions, filter_fields)
        created = await creator.ensure(collection, VECTOR_INDEX, definition) and created
    return created
