"""MCP servers kept with the settings, on both stores: versions, changes and removal."""

from __future__ import annotations

from engine.store.protocol import Store
from engine.tools.mcp import McpServerRegistry, McpServerSpec

WIKI = McpServerSpec(
    name="wiki",
    url="https://wiki.example.com/mcp",
    headers={"Authorization": "WIKI_AUTH"},
    audiences=("public", "private"),
)


async def test_a_server_is_kept_with_a_version_bumped_only_by_a_change(store: Store) -> None:
    registry = McpServerRegistry(store.kv)
    assert (await registry.add(WIKI)).version == 1
    assert (await registry.add(WIKI)).version == 1
    changed = WIKI.model_copy(update={"timeout": 5.0})
    assert (await registry.add(changed)).version == 2
    stored = await registry.get("wiki")
    assert stored is not None
    assert stored.spec == changed
    assert stored.spec.headers == {"Authorization": "WIKI_AUTH"}


async def test_servers_are_listed_by_name_and_removed(store: Store) -> None:
    registry = McpServerRegistry(store.kv)
    docs = McpServerSpec(name="docs", command="docs-server", args=("--stdio",))
    await registry.add(WIKI)
    await registry.add(docs)
    assert [s.spec.name for s in await registry.all()] == ["docs", "wiki"]
    assert await registry.remove("wiki")
    assert not await registry.remove("wiki")
    assert [s.spec for s in await registry.all()] == [docs]
