"""A MongoDB-compatible wire server for tests, and stores set up against it.

Without ``MONGODB_URI`` the tests talk to mongoeco's wire server over real sockets with the real
driver. The server runs on its own thread and event loop (started once per test run, shared by
every test), because it must outlive each test's loop and serve other processes too. mongoeco
creates vector indexes only through its Python API on the engine the server shares, so index
creation goes through ``MongoecoSearchIndexes`` here.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import threading
import uuid
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Any

from mongoeco import AsyncMongoClient as EngineClient
from mongoeco import SearchIndexModel as EngineSearchIndexModel
from mongoeco.engines.memory import MemoryEngine
from mongoeco.wire.proxy import AsyncMongoEcoProxyServer

from engine.store.mongo import MongoStore, SearchIndexCreator, ensure_vector_indexes

#: Embedding size of the vector indexes tests get unless they ask for another.
TEST_VECTOR_DIMENSIONS = 8
_START_TIMEOUT_S = 10.0
_CALL_TIMEOUT_S = 30.0


class MongoecoWireServer:
    """mongoeco's wire server on a private thread and loop, with its engine at hand."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="mongoeco-wire", daemon=True
        )
        self._engine_client: Any = None
        self._proxy: AsyncMongoEcoProxyServer | None = None
        self.uri = ""

    def start(self) -> str:
        self._thread.start()
        self.uri = self._call(self._start(), _START_TIMEOUT_S)
        return self.uri

    async def _start(self) -> str:
        self._engine_client = EngineClient(MemoryEngine())
        await self._engine_client._engine.connect()
        self._proxy = AsyncMongoEcoProxyServer(client=self._engine_client)
        address = await self._proxy.start()
        return address.uri

    def stop(self) -> None:
        if self._proxy is not None:
            self._call(self._proxy.close(), _START_TIMEOUT_S)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=_START_TIMEOUT_S)

    async def run[T](self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run ``coroutine`` on the server's loop (where its engine lives) and await it."""
        future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        return await asyncio.wait_for(asyncio.wrap_future(future), _CALL_TIMEOUT_S)

    def _call[T](self, coroutine: Coroutine[Any, Any, T], timeout: float) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    async def ensure_vector_index(
        self, database: str, collection: str, name: str, definition: dict[str, Any]
    ) -> bool:
        """Create a vector index through the engine (mongoeco indexes vector fields only)."""
        vector_fields = [f for f in definition["fields"] if f.get("type") == "vector"]
        model = EngineSearchIndexModel({"fields": vector_fields}, name=name, type="vectorSearch")

        async def create() -> None:
            target = self._engine_client[database][collection]
            existing = await target.list_search_indexes().to_list()
            if all(index["name"] != name for index in existing):
                await target.create_search_index(model)

        await self.run(create())
        return True


class MongoecoSearchIndexes:
    """``SearchIndexCreator`` for one database of the shared mongoeco server."""

    def __init__(self, server: MongoecoWireServer, database: str) -> None:
        self._server = server
        self._database = database

    async def ensure(self, collection: str, name: str, definition: dict[str, Any]) -> bool:
        return await self._server.ensure_vector_index(self._database, collection, name, definition)


_server: MongoecoWireServer | None = None
_server_lock = threading.Lock()


def local_wire_server() -> MongoecoWireServer:
    """The test run's mongoeco wire server, started on first use."""
    global _server
    with _server_lock:
        if _server is None:
            server = MongoecoWireServer()
            server.start()
            atexit.register(server.stop)
            _server = server
        return _server


def mongo_test_uri() -> str:
    """``MONGODB_URI`` when set, else the local wire server's address."""
    return os.environ.get("MONGODB_URI") or local_wire_server().uri


def _search_indexes(database: str) -> SearchIndexCreator | None:
    if os.environ.get("MONGODB_URI"):
        return None  # a real server takes createSearchIndexes through the driver
    return MongoecoSearchIndexes(local_wire_server(), database)


async def ensure_test_vector_indexes(
    database: str, dimensions: int = TEST_VECTOR_DIMENSIONS
) -> None:
    """Give ``database`` its vector indexes before separate processes use it over the wire.

    Needed once per database on the local server (the wire cannot create them); against a
    real server the processes' own ``setup`` creates them.
    """
    creator = _search_indexes(database)
    if creator is not None:
        await ensure_vector_indexes(creator, dimensions)


@asynccontextmanager
async def mongo_test_store(
    database: str | None = None, *, vector_dimensions: int = TEST_VECTOR_DIMENSIONS
) -> AsyncIterator[MongoStore]:
    """A set-up ``MongoStore`` on a fresh database, dropped afterwards."""
    name = database or f"test_{uuid.uuid4().hex[:12]}"
    store = await MongoStore.connect(
        mongo_test_uri(),
        name,
        vector_dimensions=vector_dimensions,
        search_indexes=_search_indexes(name),
    )
    try:
        await store.setup()
        yield store
    finally:
        await store.database.client.drop_database(name)
        await store.close()
