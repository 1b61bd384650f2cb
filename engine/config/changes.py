"""Changing agents while they run: applying an agents file, attaching and detaching tools.

An agent's configuration is read whole and written whole, so two changes to one agent (an
apply on one host, a tool attach on another) are serialised by a lease in the store and each
write checks the version it read: no change is ever silently lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from engine.agent.creation import DEFAULT_PERSONA, create_agent
from engine.agent.memory import DEFAULT_LIMITS
from engine.audience import ALL_WORKSPACES, Scope
from engine.config.agents_file import AgentDefinition, AgentsFile
from engine.records import Agent, Block, BlockLabel, new_id, shared_owner
from engine.store.protocol import Store
from engine.tools.builtin import BUILTIN_TOOLS
from engine.tools.custom import ToolRegistry
from engine.tools.mcp import McpServerRegistry, server_of
from engine.tools.messaging import MESSAGING_TOOLS

#: Seconds a configuration change may hold an agent's lease.
CHANGE_TTL = 30.0
_LOCK_ATTEMPTS = 50
_LOCK_PAUSE = 0.1


class AgentChangeError(Exception):
    """A change that cannot be made; the message says what to do instead."""


@contextlib.asynccontextmanager
async def agent_change(store: Store, name: str) -> AsyncIterator[None]:
    """Hold the configuration lease of agent ``name`` (across every process sharing the store)."""
    lease, holder = f"agent-config:{name}", new_id()
    for _ in range(_LOCK_ATTEMPTS):
        if await store.leases.acquire(lease, holder, CHANGE_TTL):
            break
        await asyncio.sleep(_LOCK_PAUSE)
    else:
        raise AgentChangeError(f"agent {name!r} is being changed elsewhere; try again shortly")
    try:
        yield
    finally:
        await store.leases.release(lease, holder)


async def change_agent(
    store: Store, name: str, change: Callable[[Agent], Agent], *, expected_version: int | None
) -> Agent:
    """Apply ``change`` to agent ``name`` and store it as the next version."""
    async with agent_change(store, name):
        agent = await store.agents.by_name(name)
        if agent is None:
            raise AgentChangeError(f"there is no agent called {name!r}")
        if expected_version is not None and agent.version != expected_version:
            raise AgentChangeError(
                f"agent {name!r} is at version {agent.version}, not {expected_version}: "
                "it was changed meanwhile; look at it again and retry"
            )
        updated = dataclasses.replace(change(agent), version=agent.version + 1)
        if updated == dataclasses.replace(agent, version=agent.version + 1):
            return agent
        await store.agents.put(updated)
        return updated


async def attach_tool(
    store: Store, agent_name: str, tool: str, *, expected_version: int | None = None
) -> Agent:
    """Give the agent ``tool`` (built-in, messaging or registered custom) from its next turn on."""
    custom = {t.name for t in await store.tools.list()}
    known = {*BUILTIN_TOOLS, *MESSAGING_TOOLS, *custom}
    if tool not in known and await McpServerRegistry(store.kv).get(server_of(tool)) is None:
        raise AgentChangeError(
            f"there is no tool called {tool!r}: register a custom tool with `mnemo tools add`, "
            "or an MCP server with `mnemo mcp add` (its tools are SERVER__TOOL or SERVER__*)"
        )
    return await change_agent(
        store,
        agent_name,
        lambda a: a if tool in a.tools else dataclasses.replace(a, tools=(*a.tools, tool)),
        expected_version=expected_version,
    )


async def detach_tool(
    store: Store, agent_name: str, tool: str, *, expected_version: int | None = None
) -> Agent:
    """Take ``tool`` away from the agent from its next turn on."""
    return await change_agent(
        store,
        agent_name,
        lambda a: dataclasses.replace(a, tools=tuple(t for t in a.tools if t != tool)),
        expected_version=expected_version,
    )


@dataclass(frozen=True, slots=True)
class ApplyReport:
    created: tuple[str, ...]
    updated: tuple[str, ...]
    unchanged: tuple[str, ...]


async def apply_agents_file(
    store: Store, agents_file: AgentsFile, *, default_model: str, default_budget: int
) -> ApplyReport:
    """Create or update every agent of the file by name; applying twice changes nothing."""
    registry = ToolRegistry(store.tools)
    for definition in agents_file.agents:
        for tool in definition.custom_tools:
            await registry.add(tool)
    servers = McpServerRegistry(store.kv)
    for server in agents_file.mcp_servers:
        await servers.add(server)
    for name, block in agents_file.shared_blocks.items():
        await _set_base_part(store, shared_owner(name), name, block.value, block.limit)
    outcomes: dict[str, list[str]] = {"created": [], "updated": [], "unchanged": []}
    for definition in agents_file.agents:
        async with agent_change(store, definition.name):
            outcome = await _apply_agent(store, definition, default_model, default_budget)
        outcomes[outcome].append(definition.name)
    return ApplyReport(*(tuple(outcomes[k]) for k in ("created", "updated", "unchanged")))


async def _apply_agent(
    store: Store, definition: AgentDefinition, default_model: str, default_budget: int
) -> str:
    existing = await store.agents.by_name(definition.name)
    persona = definition.persona or DEFAULT_PERSONA.format(name=definition.name)
    if existing is None:
        agent = await create_agent(
            store,
            definition.name,
            model=definition.model or default_model,
            persona=persona,
            system_prompt=definition.system_prompt,
            tools=definition.tools,
            tags=definition.tags,
            tool_rules=definition.tool_rules,
            context_budget=definition.context_budget or default_budget,
            max_steps=definition.max_steps,
        )
        configured = dataclasses.replace(
            agent,
            shared_blocks=definition.shared_blocks,
            max_tokens=definition.max_tokens,
            context_window=definition.context_window,
        )
        if configured != agent:
            await store.agents.put(configured)
        return "created"
    wanted = dataclasses.replace(
        existing,
        model=definition.model or existing.model,
        system_prompt=definition.system_prompt,
        tools=definition.tools,
        tags=definition.tags,
        tool_rules=definition.tool_rules,
        shared_blocks=definition.shared_blocks,
        context_budget=definition.context_budget or existing.context_budget,
        max_steps=definition.max_steps,
        max_tokens=definition.max_tokens,
        context_window=definition.context_window,
    )
    persona_changed = await _set_base_part(
        store, existing.id, BlockLabel.PERSONA, persona, DEFAULT_LIMITS[BlockLabel.PERSONA]
    )
    if wanted == existing:
        return "updated" if persona_changed else "unchanged"
    await store.agents.put(dataclasses.replace(wanted, version=existing.version + 1))
    return "updated"


async def _set_base_part(store: Store, owner: str, label: str, value: str, limit: int) -> bool:
    """Make the everywhere-visible part of a block hold ``value``; True when it changed."""
    part = await store.blocks.create(
        Block(
            id=new_id(),
            owner=owner,
            workspace=ALL_WORKSPACES,
            label=label,
            subject="",
            scope=Scope.agent(),
            value=value,
            limit=limit,
        )
    )
    if part.value == value:
        return False
    if await store.blocks.update(part.id, part.version, value) is None:
        raise AgentChangeError(f"block {label!r} of {owner} changed while applying; apply again")
    return True
