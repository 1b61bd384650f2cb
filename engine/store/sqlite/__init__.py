"""The embedded SQLite store (DESIGN §5): the default when no MongoDB URI is configured."""

from engine.store.sqlite.store import SQLiteStore

__all__ = ["SQLiteStore"]
