"""``MongoStore``: the storage contract on MongoDB through ``pymongo.AsyncMongoClient``."""

from __future__ import annotations

import logging
from typing import Self

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import ConfigurationError, ConnectionFailure, PyMongoError

from engine.store.kv_moves import move_state_from_kv
from engine.store.mongo._agents import MongoAgents
from engine.store.mongo._approvals import MongoApprovals
from engine.store.mongo._blocks import MongoBlocks
from engine.store.mongo._context import MongoContextReads
from engine.store.mongo._deliveries import MongoDeliveryLedgers
from engine.store.mongo._documents import Document
from engine.store.mongo._feedback import MongoFeedback
from engine.store.mongo._inbox import MongoInbox
from engine.store.mongo._indexes import ensure_indexes
from engine.store.mongo._jobs import MongoJobState
from engine.store.mongo._journal import MongoTurnJournal
from engine.store.mongo._kv import MongoKeyValues
from engine.store.mongo._leases import MongoLeases
from engine.store.mongo._lineage import MongoLineage
from engine.store.mongo._mail import MongoMail
from engine.store.mongo._messages import MongoMessages
from engine.store.mongo._outbox import MongoOutbox
from engine.store.mongo._passages import MongoPassages
from engine.store.mongo._search_indexes import (
    DriverSearchIndexes,
    SearchIndexCreator,
    ensure_vector_indexes,
)
from engine.store.mongo._sources import MongoSources
from engine.store.mongo._summaries import MongoSummaries
from engine.store.mongo._tools import MongoToolRegistry
from engine.store.mongo._turns import MongoTurnStore
from engine.store.protocol import Store

log = logging.getLogger(__name__)

#: How long connecting waits for a reachable server before giving up.
SERVER_SELECTION_TIMEOUT_S = 5.0


class MongoUnreachableError(ConnectionError):
    """The configured MongoDB server did not answer."""


class MongoStore(Store):
    """Every kind of record in one MongoDB database; see ``engine.store.protocol``."""

    def __init__(
        self,
        client: AsyncMongoClient[Document],
        database: str,
        *,
        vector_dimensions: int | None = None,
        search_indexes: SearchIndexCreator | None = None,
    ) -> None:
        self._client = client
        self._database: AsyncDatabase[Document] = client[database]
        self._vector_dimensions = vector_dimensions
        self._search_indexes = search_indexes or DriverSearchIndexes(self._database)
        db = self._database
        self.agents = MongoAgents(db["agents"])
        self.lineage = MongoLineage(db["lineage"])
        self.blocks = MongoBlocks(db["blocks"], self.lineage)
        self.messages = MongoMessages(db["messages"], self.lineage)
        self.passages = MongoPassages(db["passages"])
        self.summaries = MongoSummaries(db["summaries"])
        self.inbox = MongoInbox(db["inbox"], db["inbox_rejected"])
        self.outbox = MongoOutbox(db["outbox"])
        self.leases = MongoLeases(db["leases"])
        self.journal = MongoTurnJournal(db["inbox"], db["turn_journal"])
        self.turns = MongoTurnStore(
            db["inbox"], db["agents"], self.inbox, self.journal, self.messages, self.outbox
        )
        self.context = MongoContextReads(
            self.blocks, db["summaries"], db["messages"], db["passages"]
        )
        self.mail = MongoMail(db["agent_mail"])
        self.tools = MongoToolRegistry(db["custom_tools"])
        self.jobs = MongoJobState(db)
        self.deliveries = MongoDeliveryLedgers(db["delivery_ledger"])
        self.feedback = MongoFeedback(db["feedback"])
        self.approvals = MongoApprovals(db["approvals"])
        self.kv = MongoKeyValues(db["kv"])
        self.sources = MongoSources(db["source_documents"], db["source_chunks"])

    @classmethod
    async def connect(
        cls,
        uri: str,
        database: str,
        *,
        vector_dimensions: int | None = None,
        search_indexes: SearchIndexCreator | None = None,
        timeout_s: float = SERVER_SELECTION_TIMEOUT_S,
    ) -> Self:
        """Connect and check the server answers within ``timeout_s``.

        ``vector_dimensions`` is the embedder's output size, needed to create vector indexes.
        """
        timeout_ms = int(timeout_s * 1000)
        try:
            client: AsyncMongoClient[Document] = AsyncMongoClient(
                uri, serverSelectionTimeoutMS=timeout_ms, tz_aware=True
            )
        except ConfigurationError as error:  # InvalidURI is one
            raise MongoUnreachableError(
                f"MONGODB_URI is not a valid connection string: {error}"
            ) from error
        try:
            await client.admin.command("ping")
        except ConnectionFailure as error:
            await client.close()
            raise MongoUnreachableError(
                f"MONGODB_URI is set but unreachable (timed out after "
                f"{timeout_s:g} s): check the host or unset it to use the "
                "embedded store."
            ) from error
        return cls(
            client,
            database,
            vector_dimensions=vector_dimensions,
            search_indexes=search_indexes,
        )

    @property
    def database(self) -> AsyncDatabase[Document]:
        return self._database

    async def setup(self) -> None:
        """Create every index, move state an earlier version kept as key-value documents
        into its collections, then create the vector search indexes where the server has
        search."""
        await ensure_indexes(self._database)
        await move_state_from_kv(self)
        if self._vector_dimensions is None:
            log.warning("no embedding size configured: MongoDB vector indexes are not created")
            return
        await ensure_vector_indexes(self._search_indexes, self._vector_dimensions)

    async def settle_forget(self) -> None:
        """Nothing to settle: forgotten documents are deleted, never marked."""

    async def ping(self) -> None:
        try:
            await self._database.command("ping")
        except PyMongoError as error:
            raise MongoUnreachableError(f"MongoDB did not answer a ping: {error}") from error

    async def close(self) -> None:
        await self._client.close()
