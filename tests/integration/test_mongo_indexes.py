"""The MongoDB store's indexes and vector search, over the wire with the real driver."""

from __future__ import annotations

import dataclasses
import logging
import os
import uuid
from collections.abc import AsyncIterator

import pytest
from pymongo.errors import DuplicateKeyError

from engine.audience import Audience, AudienceKind, Scope
from engine.records import Passage
from engine.store.mongo import MongoStore
from engine.store.protocol import RecordFilter
from tests.fakes.mongo_wire import TEST_VECTOR_DIMENSIONS, mongo_test_store, mongo_test_uri

AGENT = "agent-1"
WORKSPACE = "T1"
NEAR = (1.0,) + (0.0,) * (TEST_VECTOR_DIMENSIONS - 1)


def _vector(tilt: float) -> tuple[float, ...]:
    return (1.0, tilt) + (0.0,) * (TEST_VECTOR_DIMENSIONS - 2)


def _passage(pid: str, scope: str, *, workspace: str = WORKSPACE, agent: str = AGENT) -> Passage:
    return Passage(
        id=pid,
        agent_id=agent,
        workspace=workspace,
        scope=Scope.parse(scope),
        text=f"the launch date is friday ({pid})",
        embedding=_vector(0.01 * len(pid)),
    )


#: One passage per place it could have been learned; only some may reach each audience.
PASSAGES = (
    _passage("public", "workspace"),
    _passage("agent-wide", "agent"),
    _passage("dm-alice", "dm:alice"),
    _passage("dm-bob", "dm:bob"),
    _passage("private-g", "private:G"),
    _passage("other-workspace", "workspace", workspace="T2"),
    _passage("other-agent", "workspace", agent="agent-2"),
)


@pytest.fixture
async def store() -> AsyncIterator[MongoStore]:
    async with mongo_test_store() as store:
        await store.passages.insert(PASSAGES)
        yield store


async def _index_names(store: MongoStore) -> dict[str, list[str]]:
    names = {}
    for collection in sorted(await store.database.list_collection_names()):
        indexes = await (await store.database[collection].list_indexes()).to_list()
        names[collection] = sorted(str(index["name"]) for index in indexes)
    return names


async def test_setup_twice_keeps_the_same_indexes(store: MongoStore) -> None:
    before = await _index_names(store)
    await store.setup()
    assert await _index_names(store) == before
    assert "part_identity" in before["blocks"]
    assert "content_text" in before["messages"]


async def test_unique_inbox_identity_survives_a_second_setup(store: MongoStore) -> None:
    await store.setup()
    inbox = store.database["inbox"]
    await inbox.insert_one({"_id": "1", "platform": "slack", "event_id": "Ev1"})
    with pytest.raises(DuplicateKeyError):
        await inbox.insert_one({"_id": "2", "platform": "slack", "event_id": "Ev1"})


@pytest.mark.parametrize(
    ("audience", "expected"),
    [
        (Audience(WORKSPACE, AudienceKind.PUBLIC, "C1"), {"public", "agent-wide"}),
        (
            Audience(WORKSPACE, AudienceKind.DM, "D1", user="alice"),
            {"public", "agent-wide", "dm-alice"},
        ),
        (Audience(WORKSPACE, AudienceKind.PRIVATE, "G"), {"public", "agent-wide", "private-g"}),
    ],
    ids=["public-channel", "dm-with-alice", "private-channel"],
)
async def test_vector_search_returns_only_what_the_audience_may_see(
    store: MongoStore,
    audience: Audience,
    expected: set[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    where = RecordFilter.for_audience(AGENT, audience)
    with caplog.at_level(logging.WARNING, logger="engine.store.mongo"):
        found = await store.passages.search_vector(where, NEAR, limit=10)
    assert {hit.record.id for hit in found} == expected
    assert "ranking in-process" not in caplog.text  # the server's $vectorSearch answered
    assert [hit.score for hit in found] == sorted((hit.score for hit in found), reverse=True)


async def test_the_audience_is_a_prefilter_so_other_audiences_never_crowd_out_the_visible(
    store: MongoStore,
) -> None:
    """Records another audience learned, nearer the query than every visible one and more
    than the search's candidates, leave the visible ones found: the audience fields filter
    the candidates before they are chosen, not the results after."""
    crowd = [
        dataclasses.replace(_passage(f"dm-carol-{i}", "dm:carol"), embedding=NEAR)
        for i in range(60)
    ]
    await store.passages.insert(crowd)
    where = RecordFilter.for_audience(AGENT, Audience(WORKSPACE, AudienceKind.PUBLIC, "C1"))

    found = await store.passages.search_vector(where, NEAR, limit=2)

    assert {hit.record.id for hit in found} == {"public", "agent-wide"}


async def test_vector_search_honours_the_limit_and_tags(store: MongoStore) -> None:
    tagged = Passage(
        id="tagged",
        agent_id=AGENT,
        workspace=WORKSPACE,
        scope=Scope.workspace(),
        text="tagged",
        tags=("launch",),
        embedding=_vector(0.5),
    )
    await store.passages.insert([tagged])
    where = RecordFilter(AGENT, WORKSPACE, (Scope.agent(), Scope.workspace()), tags=("launch",))
    assert [hit.record.id for hit in await store.passages.search_vector(where, NEAR, 5)] == [
        "tagged"
    ]
    everything = RecordFilter(AGENT, WORKSPACE, (Scope.agent(), Scope.workspace()))
    assert len(await store.passages.search_vector(everything, NEAR, 1)) == 1


@pytest.mark.skipif(
    bool(os.environ.get("MONGODB_URI")), reason="needs a server without search indexes"
)
async def test_server_without_search_still_ranks_visible_passages(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The driver's createSearchIndexes is refused by a server without search: setup goes on,
    # and vector search falls back to ranking the filtered candidates in-process.
    name = f"no_search_{uuid.uuid4().hex[:8]}"
    store = await MongoStore.connect(mongo_test_uri(), name, vector_dimensions=8)
    try:
        with caplog.at_level(logging.INFO, logger="engine.store.mongo"):
            await store.setup()
            await store.passages.insert(PASSAGES)
            dm = Audience(WORKSPACE, AudienceKind.DM, "D1", user="bob")
            found = await store.passages.search_vector(
                RecordFilter.for_audience(AGENT, dm), NEAR, limit=10
            )
        assert {hit.record.id for hit in found} == {"public", "agent-wide", "dm-bob"}
        assert "ranking in-process" in caplog.text
        assert found[0].score == pytest.approx(max(hit.score for hit in found))
    finally:
        await store.database.client.drop_database(name)
        await store.close()
