"""What the inspector is given by the composition root: the stores it reads and edits, search,
the agents' context preview and tool trial, the engine's intake, and the jobs' run history.
Nothing else of the running bot is within its reach."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from engine import (
    JSON,
    AgentRuntime,
    AgentStore,
    BlockStore,
    HybridSearch,
    Inbound,
    MessageStore,
    PassageStore,
    PlatformPort,
    ReceiveResult,
)
from jobs import JobHistory


class ChatIntake(Protocol):
    """The engine as the chat playground speaks to it: hand in a message, wait for its turn."""

    async def receive(self, inbound: Inbound) -> ReceiveResult: ...

    async def wait_settled(self, inbox_id: str) -> None: ...


class RejectedEvents(Protocol):
    """Platform events the adapters could not read, newest first (the store's inbox)."""

    async def rejected(self, limit: int) -> list[JSON]: ...


@dataclass(frozen=True, slots=True)
class InspectorServices:
    """The inspector's ports, built by ``bot.wiring``."""

    agents: AgentStore
    blocks: BlockStore
    messages: MessageStore
    passages: PassageStore
    search: HybridSearch
    #: Previews an agent's next request (writing nothing) and tries its tools by hand.
    turns: AgentRuntime
    intake: ChatIntake
    #: Registers the ``inspector`` platform, whose deliveries the chat playground shows.
    register_platform: Callable[[PlatformPort], None]
    job_history: JobHistory
    job_names: tuple[str, ...]
    rejected_events: RejectedEvents
