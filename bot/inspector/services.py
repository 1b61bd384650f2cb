"""What the inspector is given by the composition root: the stores it reads and edits, search,
the agents' context preview and tool trial, the engine's intake, and the jobs' run history.
Nothing else of the running bot is within its reach."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from engine import (
    JSON,
    AgentRuntime,
    AgentStore,
    BackfillLedger,
    BlockStore,
    Derived,
    FeedbackStore,
    ForgetReport,
    HybridSearch,
    Inbound,
    MemoryExplainer,
    MessageStore,
    Outbound,
    PassageStore,
    PlatformPort,
    ReceiveResult,
    SourceStore,
)
from jobs import JobHistory


class InspectorStores(Protocol):
    """The records the inspector reads and edits: agents, their blocks, recall and archival;
    and the ratings people gave the replies."""

    agents: AgentStore
    blocks: BlockStore
    messages: MessageStore
    passages: PassageStore
    sources: SourceStore
    feedback: FeedbackStore


class ChatIntake(Protocol):
    """The engine as the chat playground speaks to it: hand in a message, wait for its turn;
    the ``inspector`` platform, whose deliveries the playground shows, is registered with it."""

    async def receive(self, inbound: Inbound) -> ReceiveResult: ...

    async def wait_settled(self, inbox_id: str) -> None: ...

    async def delivered_replies(self, inbox_id: str) -> list[Outbound]:
        """The replies delivered for a settled message, by whichever process ran its turn."""

    def register_platform(self, port: PlatformPort) -> None: ...


class JobRuns(Protocol):
    """The jobs as the inspector lists them: their names and their recorded runs."""

    @property
    def names(self) -> Sequence[str]: ...

    @property
    def history(self) -> JobHistory: ...


class RejectedEvents(Protocol):
    """Platform events the adapters could not read, newest first (the store's inbox)."""

    async def rejected(self, limit: int) -> list[JSON]: ...


@dataclass(frozen=True, slots=True)
class InspectorServices:
    """The inspector's ports, built by ``bot.wiring``."""

    stores: InspectorStores
    search: HybridSearch
    #: Previews an agent's next request (writing nothing) and tries its tools by hand.
    turns: AgentRuntime
    intake: ChatIntake
    jobs: JobRuns
    rejected_events: RejectedEvents
    #: The agent the page opens on (MNEMO_AGENT), the one a terminal chat talks to.
    default_agent_id: str
    #: Where each memory came from (with links), and which memories match some words.
    explainer: MemoryExplainer
    #: ``forget_memory(workspace, kind, record_id)``: one line or passage, and what came of it.
    forget_memory: Callable[[str, Derived, str], Awaitable[ForgetReport]]
    #: How far each channel's history read got.
    channel_history: BackfillLedger
