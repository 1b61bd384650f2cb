"""Every field a MongoDB ``$vectorSearch`` pre-filters on is a filter field of its index.

Atlas rejects a pre-filter on a field the index does not declare, and without the audience
fields as pre-filters the search would take its candidates from every agent and audience,
then drop most of them after the limit.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from engine.audience import Scope
from engine.store.mongo._filters import vector_prefilter
from engine.store.mongo._search_indexes import VECTOR_COLLECTIONS, vector_index_definition
from engine.store.protocol import RecordFilter

NARROWEST = RecordFilter(
    "agent-1",
    "T1",
    (Scope.agent(), Scope.workspace(), Scope.dm("alice")),
    start=datetime(2026, 1, 1, tzinfo=UTC),
    end=datetime(2026, 2, 1, tzinfo=UTC),
    channel="C1",
    tags=("food",),
    user="alice",
)


def named_fields(query: Any) -> set[str]:
    if isinstance(query, list):
        return set().union(*(named_fields(item) for item in query))
    if not isinstance(query, dict):
        return set()
    fields = {key for key in query if not key.startswith("$")}
    return fields | set().union(*(named_fields(value) for value in query.values()))


@pytest.mark.parametrize("collection", sorted(VECTOR_COLLECTIONS))
def test_the_prefilter_names_only_indexed_filter_fields(collection: str) -> None:
    definition = vector_index_definition(8, VECTOR_COLLECTIONS[collection])
    declared = {f["path"] for f in definition["fields"] if f["type"] == "filter"}

    used = named_fields(vector_prefilter(NARROWEST, messages=collection == "messages"))

    assert {"agent_id", "workspace", "scope"} <= used
    assert used <= declared
