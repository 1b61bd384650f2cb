"""Connecting to MongoDB: a clear error when the configured server is not there."""

from __future__ import annotations

import socket

import pytest

from engine.store.mongo import MongoStore, MongoUnreachableError
from tests.fakes.mongo_wire import mongo_test_store


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_unreachable_server_fails_fast_naming_the_setting() -> None:
    uri = f"mongodb://127.0.0.1:{_closed_port()}/?directConnection=true"
    with pytest.raises(MongoUnreachableError, match="MONGODB_URI is set but unreachable"):
        await MongoStore.connect(uri, "mnemo", timeout_s=0.3)


async def test_reachable_server_answers_ping() -> None:
    async with mongo_test_store() as store:
        await store.ping()
