"""The ``store`` fixture: every contract test runs once per backend, unchanged.

``sqlite`` uses a fresh file per test; ``mongo`` a fresh database on the local mongoeco wire
server, or on ``MONGODB_URI`` when it is set. ``replica`` opens a second handle on the same
data, as a second process or replica would.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from engine.store.protocol import Store
from engine.store.sqlite import SQLiteStore

type OpenReplica = Callable[[], Awaitable[Store]]


@pytest.fixture(params=["sqlite", "mongo"])
async def backend(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[Store, OpenReplica]]:
    async with AsyncExitStack() as stack:
        if request.param == "sqlite":
            path = tmp_path / "mnemo.sqlite3"

            async def open_sqlite() -> Store:
                store = SQLiteStore(path)
                await store.setup()
                stack.push_async_callback(store.close)
                return store

            yield await open_sqlite(), open_sqlite
        else:
            mongo_wire = pytest.importorskip(
                "tests.fakes.mongo_wire", reason="the MongoDB test server is not available"
            )
            first = await stack.enter_async_context(mongo_wire.mongo_test_store())

            async def open_mongo() -> Store:
                from engine.store.mongo import MongoStore

                store = await MongoStore.connect(mongo_wire.mongo_test_uri(), first.database.name)
                stack.push_async_callback(store.close)
                return store

            yield first, open_mongo


@pytest.fixture
def store(backend: tuple[Store, OpenReplica]) -> Store:
    return backend[0]


@pytest.fixture
def open_replica(backend: tuple[Store, OpenReplica]) -> OpenReplica:
    return backend[1]


async def upgraded_sqlite(path: Path) -> SQLiteStore:
    """The embedded store on a file written by an earlier version, opened as a start finds it
    (started twice first: the second start must find nothing left to upgrade)."""
    for _ in range(2):
        store = SQLiteStore(path)
        await store.setup()
        await store.close()
    store = SQLiteStore(path)
    await store.setup()
    return store
