"""Creating agents: the agent record and its base persona, written together."""

from __future__ import annotations

from collections.abc import Sequence

from engine.agent.memory import base_persona
from engine.records import Agent, ToolRule, new_id
from engine.store.protocol import Store
from engine.tools.builtin import DEFAULT_TOOLS

DEFAULT_PERSONA = (
    "I am {name}, a friendly, concise assistant with a long memory. I remember what people "
    "tell me, keep their private matters private, and say so when I don't know something."
)


class AgentExists(Exception):
    """An agent with that name already exists."""


async def create_agent(
    store: Store,
    name: str,
    *,
    model: str,
    persona: str | None = None,
    system_prompt: str = "",
    tools: Sequence[str] = DEFAULT_TOOLS,
    tags: Sequence[str] = (),
    tool_rules: Sequence[ToolRule] = (),
    context_budget: int = 16_000,
    max_steps: int = 8,
) -> Agent:
    """Create an agent with its base persona; raise ``AgentExists`` if the name is taken."""
    if not name.strip():
        raise ValueError("an agent needs a name")
    if await store.agents.by_name(name) is not None:
        raise AgentExists(f"an agent called {name!r} already exists")
    agent = Agent(
        id=new_id(),
        name=name,
        model=model,
        system_prompt=system_prompt,
        tools=tuple(tools),
        tags=tuple(tags),
        tool_rules=tuple(tool_rules),
        context_budget=context_budget,
        max_steps=max_steps,
    )
    await store.agents.put(agent)
    await store.blocks.create(base_persona(agent, persona or DEFAULT_PERSONA.format(name=name)))
    return agent


async def ensure_agent(store: Store, name: str, *, model: str, context_budget: int) -> Agent:
    """The agent called ``name``, created with defaults on first use."""
    existing = await store.agents.by_name(name)
    if existing is not None:
        return existing
    try:
        return await create_agent(store, name, model=model, context_budget=context_budget)
    except AgentExists:  # another process created it meanwhile
        found = await store.agents.by_name(name)
        assert found is not None
        return found
