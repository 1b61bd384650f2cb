"""What the Slack and Discord bots are given by the composition root: the engine's intake and
platform registry, the user-data service, the Slack app's settings and delivery ledgers, and
the agents they speak as."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from adapters.intake import ChannelTraffic
from engine import (
    Agent,
    AgentsFile,
    ApprovalPort,
    ApprovalPrompter,
    BackfillLedger,
    DeliveryLedgerStore,
    FeedbackPort,
    IntakePort,
    KeyValueStore,
    PeerAgent,
    PlatformPort,
    SourceLibrary,
    UserMemory,
)


@dataclass(frozen=True, slots=True)
class PlatformServices:
    """The bots' ports, built by ``bot.wiring``."""

    intake: IntakePort
    #: Registers a platform's delivery side with the engine.
    register_platform: Callable[[PlatformPort], None]
    user_data: UserMemory
    #: Where the Slack app keeps its workspace installations and OAuth state.
    slack_installations: KeyValueStore
    #: Which platform messages each delivered reply became (so none is posted twice).
    deliveries: DeliveryLedgerStore
    #: The agent the SLACK_* and DISCORD_* settings speak as.
    default_agent: Agent
    agents_file: AgentsFile | None
    #: platform -> bot user id -> agent: whose messages the bots hear as an agent's.
    peer_agents: Mapping[str, Mapping[str, PeerAgent]]
    #: The traffic policy as the bots apply it to agents talking in channels.
    channel_traffic: ChannelTraffic
    #: How far each channel history read got (Discord keeps it here; Slack in its key-value store).
    channel_history: BackfillLedger
    #: Where the bots' feedback buttons record ratings of replies.
    ratings: FeedbackPort | None = None
    #: Where files shared with the bots are learned (``learn_files`` in the agents file).
    sources: SourceLibrary | None = None
    #: Where the bots' Approve / Deny buttons decide tool calls waiting for a person.
    approvals: ApprovalPort | None = None
    #: Registers a bot's approval prompts, so its conversations' requests are shown there.
    register_approvals: Callable[[ApprovalPrompter], None] | None = None
    #: Registers what a bot keeps about people outside memory with their forget: called with
    #: the workspace and user, it forgets them and says how many records went.
