"""The tool registry: custom tools by name, every write a compare-and-set on the version."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from engine.store.protocol import Store
from engine.tools.custom import CustomTool, ToolRegistry
from tests.contract.conftest import OpenReplica


def tool(name: str = "forecast", description: str = "Weather for a city.") -> CustomTool:
    return CustomTool(
        name=name,
        description=description,
        parameters={
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"enum": ["c", "f"]}},
            "required": ["city"],
        },
        source="def forecast(city, unit):\n    return city\n",
        function=name,
        origin="tools/weather.py",
        enums={"unit": "Unit"},
    )


async def test_tools_are_created_replaced_listed_and_deleted(store: Store) -> None:
    created = await store.tools.put(tool(), 0)
    assert created == replace(tool(), version=1)
    assert await store.tools.get("forecast") == created
    assert await store.tools.put(tool(), 0) is None  # it exists already

    changed = await store.tools.put(tool(description="Better weather."), 1)
    assert changed is not None
    assert changed.version == 2
    assert await store.tools.put(tool(description="Stale."), 1) is None
    assert await store.tools.get("forecast") == changed

    await store.tools.put(tool("alarm"), 0)
    assert [t.name for t in await store.tools.list()] == ["alarm", "forecast"]
    assert await store.tools.delete("alarm")
    assert not await store.tools.delete("alarm")
    assert await store.tools.get("alarm") is None


async def test_racing_writers_of_one_version_have_one_winner(
    store: Store, open_replica: OpenReplica
) -> None:
    other = await open_replica()
    await store.tools.put(tool(), 0)
    stores = [store, other] * 3
    results = await asyncio.gather(
        *(s.tools.put(tool(description=f"edit {i}"), 1) for i, s in enumerate(stores))
    )
    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    assert await other.tools.get("forecast") == winners[0]


async def test_registering_the_same_tool_again_changes_nothing(store: Store) -> None:
    registry = ToolRegistry(store.tools)
    first = await registry.add(tool())
    assert first.version == 1
    assert await registry.add(tool()) == first
    replaced = await registry.add(tool(description="Changed."))
    assert (replaced.version, replaced.description) == (2, "Changed.")
    assert await registry.all() == [replaced]


async def test_racing_registrations_are_each_applied_once(
    store: Store, open_replica: OpenReplica
) -> None:
    other = await open_replica()
    registries = [ToolRegistry(store.tools), ToolRegistry(other.tools)]
    stored = await asyncio.gather(
        *(r.add(tool(description=f"take {i}")) for i, r in enumerate(registries * 2))
    )
    assert sorted(t.version for t in stored) == [1, 2, 3, 4]
    final = await store.tools.get("forecast")
    assert final == max(stored, key=lambda t: t.version)
