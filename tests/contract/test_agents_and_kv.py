"""Agents and small key-value documents: plain CRUD."""

from __future__ import annotations

from dataclasses import replace

from engine.records import Agent, ToolRule
from engine.store.protocol import Store
from tests.contract.records import BASE_TIME


def _agent(agent_id: str, name: str) -> Agent:
    return Agent(
        id=agent_id,
        name=name,
        model="gpt-test",
        system_prompt="You remember.",
        tools=("send_message", "archival_memory_search"),
        tags=("team",),
        tool_rules=(ToolRule("terminal", "send_message"),),
        created_at=BASE_TIME,
    )


async def test_agent_is_stored_found_replaced_and_deleted(store: Store) -> None:
    ada = _agent("a1", "Ada")
    await store.agents.put(ada)
    await store.agents.put(_agent("a2", "Bea"))
    assert await store.agents.get("a1") == ada
    assert await store.agents.by_name("Bea") == _agent("a2", "Bea")
    assert await store.agents.by_name("Nobody") is None
    assert sorted(a.id for a in await store.agents.list()) == ["a1", "a2"]

    renamed = replace(ada, name="Ada Lovelace", max_steps=3, version=2)
    await store.agents.put(renamed)
    assert await store.agents.get("a1") == renamed
    assert await store.agents.by_name("Ada") is None

    assert await store.agents.delete("a1")
    assert not await store.agents.delete("a1")
    assert await store.agents.get("a1") is None
    assert [a.id for a in await store.agents.list()] == ["a2"]


async def test_key_values_are_kept_per_namespace_and_listed_by_prefix(store: Store) -> None:
    await store.kv.put("slack-install", "T1", {"token": "x", "scopes": ["chat:write"]})
    await store.kv.put("slack-install", "T2", {"token": "y"})
    await store.kv.put("slack-install", "U9", {"token": "z"})
    await store.kv.put("oauth-state", "T1", {"nonce": 1})

    assert await store.kv.get("slack-install", "T1") == {"token": "x", "scopes": ["chat:write"]}
    assert await store.kv.get("slack-install", "missing") is None
    listed = await store.kv.list("slack-install", prefix="T")
    assert listed == [("T1", {"token": "x", "scopes": ["chat:write"]}), ("T2", {"token": "y"})]
    assert len(await store.kv.list("slack-install")) == 3

    await store.kv.put("slack-install", "T1", {"token": "new"})
    assert await store.kv.get("slack-install", "T1") == {"token": "new"}
    assert await store.kv.delete("slack-install", "T1")
    assert not await store.kv.delete("slack-install", "T1")
    assert await store.kv.get("oauth-state", "T1") == {"nonce": 1}
