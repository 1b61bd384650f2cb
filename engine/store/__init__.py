"""Storage (DESIGN §5): the factory that picks a backend; the contract the engine talks to
is ``engine.store.protocol`` (and ``queues`` for the inbox, outbox and leases).

MongoDB when a URI is configured; otherwise the embedded SQLite file under the data directory.
"""

from __future__ import annotations

from pathlib import Path

from engine.store.protocol import Store

__all__ = ["SQLITE_FILE_NAME", "open_store"]

#: The embedded store's file inside the data directory.
SQLITE_FILE_NAME = "mnemo.sqlite3"


async def open_store(
    *,
    mongodb_uri: str | None,
    data_dir: Path,
    database: str = "mnemo",
    vector_dimensions: int | None = None,
) -> Store:
    """Open the configured store and make sure its tables or collections exist.

    ``vector_dimensions`` (the embedder's output size) lets MongoDB create its vector index.
    """
    store: Store
    if mongodb_uri is None:
        from engine.store.sqlite import SQLiteStore

        store = SQLiteStore(data_dir / SQLITE_FILE_NAME)
    else:
        from engine.store.mongo import MongoStore

        store = await MongoStore.connect(mongodb_uri, database, vector_dimensions=vector_dimensions)
    await store.setup()
    return store
