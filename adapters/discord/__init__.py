"""Discord: gateway messages -> the intake chain -> the engine; replies -> Discord messages."""

from adapters.discord.adapter import DiscordAdapter, gateway_intents
from adapters.discord.audience import dm_workspace, guild_workspace
from adapters.discord.config import DiscordConfig
from adapters.discord.delivery import DiscordDelivery
from adapters.policy import ChannelPolicy

__all__ = [
    "ChannelPolicy",
    "DiscordAdapter",
    "DiscordConfig",
    "DiscordDelivery",
    "dm_workspace",
    "gateway_intents",
    "guild_workspace",
]
