"""The MongoDB store (production): Atlas ``$vectorSearch`` where it exists, any MongoDB else."""

from engine.store.mongo._search_indexes import (
    VECTOR_COLLECTIONS,
    SearchIndexCreator,
    ensure_vector_indexes,
    vector_index_definition,
)
from engine.store.mongo._store import MongoStore, MongoUnreachableError
from engine.store.mongo._vector import VECTOR_INDEX

__all__ = [
    "VECTOR_COLLECTIONS",
    "VECTOR_INDEX",
    "MongoStore",
    "MongoUnreachableError",
    "SearchIndexCreator",
    "ensure_vector_indexes",
    "vector_index_definition",
]
