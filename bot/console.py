"""A conversation in this terminal: ``mnemo chat``, and ``mnemo run`` when no platform is set."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from adapters.console import ConsoleApprovals, ConsoleChat, ConsoleEngine, ConsolePort
from bot.settings import SettingsError
from engine import Agent, AgentStore, ApprovalPort, ApprovalPrompter, PlatformPort


class TerminalEngine(ConsoleEngine, Protocol):
    """The engine as a terminal chat uses it: intake, and a place for the terminal's
    delivery side among the platforms."""

    def register_platform(self, port: PlatformPort) -> None: ...


@dataclass(frozen=True, slots=True)
class ConsoleServices:
    """What a terminal conversation is given, built by ``bot.wiring``."""

    engine: TerminalEngine
    agents: AgentStore
    #: The agent a chat talks to when none is named (MNEMO_AGENT).
    default_agent: Agent
    #: Where ``/approve`` and ``/deny`` decide tool calls waiting for a person.
    approvals: ApprovalPort | None = None
    #: Registers the terminal's approval prompts, so its requests are printed there.
    register_approvals: Callable[[ApprovalPrompter], None] | None = None

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
        self.engine.register_platform(ConsolePort(agent_names={agent.id: agent.name}))
        approvals = None
        if self.approvals is not None and self.register_approvals is not None:
            approvals = ConsoleApprovals(self.approvals)
            self.register_approvals(approvals)
        return ConsoleChat(self.engine, agent.id, user=user, channel=channel, approvals=approvals)
