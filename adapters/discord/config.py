"""How one Discord bot is set up: its token, the agent it speaks for, and where it listens."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from adapters.history import HistoryBounds
from adapters.intake import ChannelTraffic
from adapters.policy import ChannelPolicies, ChannelPolicy
from adapters.shared_files import FileLearning
from engine import PeerAgent

#: discord.py's floor for ``max_ratelimit_timeout``.
MIN_RATE_LIMIT_WAIT = 30.0


@dataclass(frozen=True, slots=True)
class DiscordConfig:
    """Settings of one Discord bot, validated on construction."""

    token: str
    agent_id: str
    #: Run an ``AutoShardedClient`` (shard count from Discord) instead of one connection.
    sharded: bool = False
    default_policy: ChannelPolicy = ChannelPolicy.MENTION
    #: Channel or thread id -> policy; a thread without its own entry follows its parent.
    channel_policies: Mapping[str, ChannelPolicy] = field(default_factory=dict)
    #: The privileged Message Content intent (enable it in the developer portal first). Without
    #: it Discord sends text only for DMs and mentions, so ``listen``/``open`` cannot work.
    message_content: bool = False
    #: Register /memory, /forget and /export with Discord on start.
    sync_commands: bool = True
    #: Another REST base (a rate-limit proxy shared by shards, or a local fake in tests).
    api_base: str | None = None
    #: Another gateway websocket URL (a local fake in tests).
    gateway_url: str | None = None
    #: Seconds to wait for the last GUILD_CREATE before the bot counts as ready.
    guild_ready_timeout: float = 2.0
    #: A REST rate limit longer than this fails the delivery with ``retry_after`` instead of
    #: holding the worker. discord.py waits out anything shorter, and never less than 30 s.
    max_rate_limit_wait: float = 30.0
    #: Seconds ``start()`` waits for the gateway to be ready.
    start_timeout: float = 60.0
    #: Other agents of this deployment by their bot user id: their messages reach this agent
    #: as messages from an agent, under ``traffic``'s hop, loop and rate limits.
    peer_agents: Mapping[str, PeerAgent] = field(default_factory=dict)
    traffic: ChannelTraffic | None = None
    #: The channels the agent serves (DMs always); empty: every channel the bot is in.
    served_channels: frozenset[str] = frozenset()
    #: How much of a channel's past the bot learns when it joins or an admin asks.
    history: HistoryBounds = field(default_factory=HistoryBounds)
    #: Where attachments shared with the bot are learned as knowledge sources (off by default).
    file_learning: FileLearning = field(default_factory=FileLearning)

    def __post_init__(self) -> None:
        if not self.token.strip():
            raise ValueError(
                "The Discord bot token is empty: copy it from the developer portal "
                "(Bot -> Reset Token) into DISCORD_TOKEN."
            )
        if not self.agent_id:
            raise ValueError("A Discord bot needs the id of the agent it speaks for.")
        if self.max_rate_limit_wait < MIN_RATE_LIMIT_WAIT:
            raise ValueError(
                f"max_rate_limit_wait must be at least {MIN_RATE_LIMIT_WAIT:.0f} s "
                "(discord.py waits out shorter rate limits itself)."
            )
        policies = {self.default_policy, *self.channel_policies.values()}
        if not self.message_content and policies - {ChannelPolicy.MENTION}:
            raise ValueError(
                "The listen and open channel policies need the Message Content intent: enable "
                "it in the developer portal (Bot -> Privileged Gateway Intents) and in settings, "
                "or use the mention policy."
            )

    @property
    def policies(self) -> ChannelPolicies:
        """Channel policies; a thread without its own entry follows its parent's."""
        return ChannelPolicies(self.default_policy, self.channel_policies)
