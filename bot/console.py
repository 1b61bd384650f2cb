"""A conversation in this terminal: ``mnemo chat``, and ``mnemo run`` when no platform is set."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from adapters.console import ConsoleChat, ConsoleEngine, ConsolePort
from bot.settings import SettingsError
from engine import Agent, AgentStore, PlatformPort


@dataclass(frozen=True, slots=True)
class ConsoleServices:
    """What a terminal conversation is given, built by ``bot.wiring``."""

    intake: ConsoleEngine
    #: Registers the terminal's delivery side with the engine.
    register_platform: Callable[[PlatformPort], None]
    agents: AgentStore
    #: The agent a chat talks to when none is named (MNEMO_AGENT).
    default_agent: Agent

    async def agent(self, name: str | None) -> Agent:
        """The agent called ``name`` (the default one for None); an unknown name is a
        settings error that says how to create it."""
        if name is None:
            return self.default_agent
        agent = await self.agents.by_name(name)
        if agent is None:
            raise SettingsError(
                f"There is no agent called {name!r}: create it with `mnemo agents create {name}`."
            )
        return agent

    def chat(self, agent: Agent, *, user: str, channel: str | None) -> ConsoleChat:
        """A chat of ``user`` with ``agent`` in ``channel`` (None: direct messages), whose
        replies the terminal receives."""
        self.register_platform(ConsolePort(agent_names={agent.id: agent.name}))
        return ConsoleChat(self.intake, agent.id, user=user, channel=channel)
