"""The embedded store: every record kind in one SQLite file under the data directory."""

from __future__ import annotations

from pathlib import Path

from engine.store.kv_moves import move_state_from_kv
from engine.store.protocol import Store
from engine.store.sqlite._database import Database
from engine.store.sqlite._redaction import settle_forget
from engine.store.sqlite.agents import SQLiteAgentStore
from engine.store.sqlite.approvals import SQLiteApprovals
from engine.store.sqlite.blocks import SQLiteBlockStore
from engine.store.sqlite.context import SQLiteContextReads
from engine.store.sqlite.deliveries import SQLiteDeliveryLedgers
from engine.store.sqlite.feedback import SQLiteFeedback
from engine.store.sqlite.inbox import SQLiteInboxStore
from engine.store.sqlite.jobs import SQLiteJobState
from engine.store.sqlite.journal import SQLiteTurnJournal
from engine.store.sqlite.kv import SQLiteKeyValueStore
from engine.store.sqlite.leases import SQLiteLeaseStore
from engine.store.sqlite.lineage import SQLiteLineage
from engine.store.sqlite.mail import SQLiteMailStore
from engine.store.sqlite.messages import SQLiteMessageStore
from engine.store.sqlite.outbox import SQLiteOutboxStore
from engine.store.sqlite.passages import SQLitePassageStore
from engine.store.sqlite.sources import SQLiteSourceStore
from engine.store.sqlite.summaries import SQLiteSummaryStore
from engine.store.sqlite.tools import SQLiteToolRegistry
from engine.store.sqlite.turns import SQLiteTurnStore


class SQLiteStore(Store):
    """``engine.store.protocol.Store`` on one SQLite file (WAL mode), shareable by several
    processes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = Database(path)
        self.agents = SQLiteAgentStore(self._db)
        self.blocks = SQLiteBlockStore(self._db)
        self.messages = SQLiteMessageStore(self._db)
        self.passages = SQLitePassageStore(self._db)
        self.summaries = SQLiteSummaryStore(self._db)
        self.inbox = SQLiteInboxStore(self._db)
        self.outbox = SQLiteOutboxStore(self._db)
        self.leases = SQLiteLeaseStore(self._db)
        self.journal = SQLiteTurnJournal(self._db)
        self.turns = SQLiteTurnStore(self._db, self.agents, self.inbox, self.journal, self.outbox)
        self.context = SQLiteContextReads(
            self._db, self.blocks, self.summaries, self.messages, self.passages
        )
        self.mail = SQLiteMailStore(self._db)
        self.tools = SQLiteToolRegistry(self._db)
        self.jobs = SQLiteJobState(self._db)
        self.deliveries = SQLiteDeliveryLedgers(self._db)
        self.feedback = SQLiteFeedback(self._db)
        self.approvals = SQLiteApprovals(self._db)
        self.kv = SQLiteKeyValueStore(self._db)
        self.lineage = SQLiteLineage(self._db)
        self.sources = SQLiteSourceStore(self._db)

    async def setup(self) -> None:
        """Open the file, creating it and its tables when missing (and moving state an
        earlier version kept as key-value documents into its tables)."""
        await self._db.open()
        await move_state_from_kv(self)

    async def settle_forget(self) -> None:
        await self._db.run(settle_forget)

    async def ping(self) -> None:
        await self._db.run(lambda c: c.execute("SELECT 1").fetchone())

    async def close(self) -> None:
        await self._db.close()
