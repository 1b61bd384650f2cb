"""What a bot serves and learns beyond its channel policies, the same on every platform.

The composition root reads it once per bot (``bot.platforms``) and hands it to the bot's
config; the intake chain, the history reader and the shared-file learner read it from there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from adapters.history import HistoryBounds
from adapters.intake import ChannelTraffic
from adapters.shared_files import DocumentLearner, FileLearning, SharedFileLearner
from engine import PeerAgent


@dataclass(frozen=True, slots=True)
class Serving:
    """Whom a bot hears as agents, where it answers, and what it learns of channels and files."""

    #: Other agents of this deployment by their bot user id: their messages reach this agent
    #: as messages from an agent, under ``traffic``'s hop, loop and rate limits.
    peer_agents: Mapping[str, PeerAgent] = field(default_factory=dict)
    traffic: ChannelTraffic | None = None
    #: The channels the agent serves (DMs always); empty: every channel the bot is in.
    served_channels: frozenset[str] = frozenset()
    #: How much of a channel's past the bot learns when it joins or an admin asks.
    history: HistoryBounds = field(default_factory=HistoryBounds)
    #: Where files shared with the bot are learned as knowledge sources (off by default).
    file_learning: FileLearning = field(default_factory=FileLearning)

    def file_learner(
        self, library: DocumentLearner | None, workspace_word: str = "workspace"
    ) -> SharedFileLearner | None:
        """The bot's learner of shared files, when it was given a library to add documents
        to; ``workspace_word`` is what its platform calls a workspace, in its answers."""
        if library is None:
            return None
        return SharedFileLearner(library, self.file_learning, self.served_channels, workspace_word)
