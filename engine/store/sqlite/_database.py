"""One SQLite connection owned by one thread, so a whole store operation is one thread hop.

SQLite calls block; running each operation as a single function on the connection's own
thread keeps the event loop free and costs one hand-over per operation, not one per statement.
"""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from functools import partial
from pathlib import Path
from queue import SimpleQueue
from typing import Any

from engine.store.sqlite._schema import SCHEMA
from engine.store.sqlite._upgrade import upgrade

#: How long a writer waits for another process's write lock before giving up (milliseconds).
BUSY_TIMEOUT_MS = 15_000
#: Pages of the file kept in memory, in KiB (the most the cache grows to).
CACHE_KIB = 16 * 1024
#: Seconds between tries to take the write lock, the last one repeated.
_LOCK_WAITS = (0.0001, 0.0002, 0.0005, 0.001, 0.002)


class Database:
    """The store's file: opened on ``open()``, used through ``run()``, closed on ``close()``.

    A plain thread fed by a queue, not an executor: each hand-over then costs one queue put
    and one ``call_soon_threadsafe`` (a few times cheaper, which matters at tens of
    operations per turn).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._jobs: SimpleQueue[Callable[[], None] | None] = SimpleQueue()
        self._thread: threading.Thread | None = None
        self._conn: sqlite3.Connection | None = None

    async def open(self) -> None:
        """Open (creating when missing) the file in WAL mode, upgrade it and create the schema."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._serve, name="sqlite-store", daemon=True)
        self._thread.start()
        try:
            self._conn = await self._call(self._connect)
        except BaseException:
            self._thread = None
            self._jobs.put(None)
            raise

    def _serve(self) -> None:
        while (job := self._jobs.get()) is not None:
            job()

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            # A turn reads and writes pages all over the recall and lineage indexes: with
            # SQLite's default 2 MiB, a store of a few thousand messages rereads them from the
            # file every turn.
            conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
            # Deleted and overwritten content is zeroed in the file, not left in free space.
            conn.execute("PRAGMA secure_delete = ON")
            with write(conn):
                upgrade(conn)
            # One script, one transaction: processes starting together create the schema once.
            conn.executescript(f"BEGIN IMMEDIATE;\n{SCHEMA}\nCOMMIT;")
        except BaseException:
            conn.close()
            raise
        return conn

    def _call[T](self, operation: Callable[[], T]) -> asyncio.Future[T]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()

        def job() -> None:
            settle: Callable[[], None]
            try:
                result = operation()
            except BaseException as error:
                settle = partial(_set_exception, future, error)
            else:
                settle = partial(_set_result, future, result)
            with suppress(RuntimeError):  # the loop closed meanwhile: nobody is waiting
                loop.call_soon_threadsafe(settle)

        self._jobs.put(job)
        return future

    async def run[T](self, operation: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``operation`` with the connection on its thread and return its result."""
        conn = self._conn
        if conn is None:
            raise RuntimeError("the SQLite store is not open: call setup() first")
        return await self._call(partial(operation, conn))

    async def query(self, sql: str, params: Sequence[object] = ()) -> list[Any]:
        """The rows ``sql`` selects."""
        return await self.run(lambda c: c.execute(sql, params).fetchall())

    async def execute(self, sql: str, params: Sequence[object] = ()) -> int:
        """Run one writing statement; how many rows it changed."""

        def execute(conn: sqlite3.Connection) -> int:
            with write(conn):
                return conn.execute(sql, params).rowcount

        return await self.run(execute)

    async def close(self) -> None:
        thread, self._thread = self._thread, None
        conn, self._conn = self._conn, None
        if thread is None:
            return
        if conn is not None:
            await self._call(conn.close)
        self._jobs.put(None)
        await asyncio.to_thread(thread.join)


def _set_result[T](future: asyncio.Future[T], result: T) -> None:
    if not future.cancelled():
        future.set_result(result)


def _set_exception(future: asyncio.Future[Any], error: BaseException) -> None:
    if not future.cancelled():
        future.set_exception(error)


@contextmanager
def write(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A write transaction that takes the file's write lock up front (no upgrade deadlocks)."""
    begin_immediate(conn)
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def begin_immediate(conn: sqlite3.Connection) -> None:
    """Take the write lock, waiting for another process's transaction in short steps.

    SQLite's own busy handler sleeps 1 ms, then longer and longer (up to 100 ms a try), while
    a transaction here holds the lock about a millisecond: processes sharing the file would
    spend most of their time asleep.
    """
    conn.execute("PRAGMA busy_timeout = 0")
    try:
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        for attempt in itertools.count():
            try:
                conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                if error.sqlite_errorcode != sqlite3.SQLITE_BUSY or time.monotonic() > deadline:
                    raise
            time.sleep(_LOCK_WAITS[min(attempt, len(_LOCK_WAITS) - 1)])
    finally:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")


@contextmanager
def snapshot(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A read transaction: every statement inside sees the same committed state."""
    conn.execute("BEGIN")
    try:
        yield conn
    finally:
        conn.execute("COMMIT")
