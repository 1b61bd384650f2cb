"""Which bot users on a platform are this deployment's agents, from the agents file."""

from __future__ import annotations

from engine.config.agents_file import AgentsFile
from engine.messaging import PeerAgent
from engine.store.protocol import AgentStore


async def peer_agents(
    agents: AgentStore, agents_file: AgentsFile | None
) -> dict[str, dict[str, PeerAgent]]:
    """platform -> bot user id -> agent, for every agent that names its ``bot_user``; adapters
    hear these bots' messages as messages from agents (applied agents only)."""
    peers: dict[str, dict[str, PeerAgent]] = {}
    for definition in agents_file.agents if agents_file else ():
        agent = await agents.by_name(definition.name)
        if agent is None:
            continue
        for platform, spec in definition.platforms.items():
            if spec.bot_user:
                peers.setdefault(platform, {})[spec.bot_user] = PeerAgent(agent.id, agent.name)
    return peers
