"""``open_store`` picks the backend from the configuration and hands back a ready store."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.store import SQLITE_FILE_NAME, open_store
from engine.store.sqlite import SQLiteStore


async def test_without_a_uri_the_embedded_file_is_created_under_the_data_dir(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    store = await open_store(mongodb_uri=None, data_dir=data_dir)
    try:
        assert isinstance(store, SQLiteStore)
        assert (data_dir / SQLITE_FILE_NAME).is_file()
        await store.kv.put("settings", "k", {"v": 1})
        await store.ping()
    finally:
        await store.close()

    reopened = await open_store(mongodb_uri=None, data_dir=data_dir)
    try:
        assert await reopened.kv.get("settings", "k") == {"v": 1}
    finally:
        await reopened.close()


async def test_with_a_uri_the_mongodb_store_is_connected_and_set_up(tmp_path: Path) -> None:
    mongo_wire = pytest.importorskip(
        "tests.fakes.mongo_wire", reason="the MongoDB test server is not available"
    )
    from engine.store.mongo import MongoStore

    store = await open_store(
        mongodb_uri=mongo_wire.mongo_test_uri(), data_dir=tmp_path, database="open_store_test"
    )
    assert isinstance(store, MongoStore)
    try:
        await store.kv.put("settings", "k", {"v": 2})
        assert await store.kv.get("settings", "k") == {"v": 2}
        assert not (tmp_path / SQLITE_FILE_NAME).exists()
    finally:
        await store.database.client.drop_database("open_store_test")
        await store.close()
