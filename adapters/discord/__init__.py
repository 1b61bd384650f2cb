"""Discord: gateway messages -> ``engine.Inbound``; ``engine.Outbound`` -> Discord messages."""

from adapters.discord.adapter import DiscordAdapter, InboundSink, gateway_intents
from adapters.discord.audience import dm_workspace, guild_workspace
from adapters.discord.config import ChannelPolicy, DiscordConfig
from adapters.discord.delivery import DiscordDelivery

__all__ = [
    "ChannelPolicy",
    "DiscordAdapter",
    "DiscordConfig",
    "DiscordDelivery",
    "InboundSink",
    "dm_workspace",
    "gateway_intents",
    "guild_workspace",
]
