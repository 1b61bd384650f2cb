"""How one Discord bot is set up: its token, the agent it speaks for, and where it listens."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from adapters.policy import ChannelPolicies, ChannelPolicy
from adapters.serving import Serving

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
    #: Whom the bot hears as agents, where it answers, what it learns of channels and files.
    serving: Serving = field(default_factory=Serving)

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
