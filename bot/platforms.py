"""Slack and Discord adapters built from settings, for the agent they speak as."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import SecretStr

from adapters.discord import DiscordAdapter, DiscordConfig
from adapters.policy import ChannelPolicy
from adapters.slack import SlackAdapter, SlackConfig
from bot.settings import Settings, SettingsError, parse_policies
from bot.wiring import Runtime


def _secret(value: SecretStr | None) -> str:
    return value.get_secret_value() if value is not None else ""


@dataclass(slots=True)
class Platforms:
    slack: SlackAdapter | None = None
    discord: DiscordAdapter | None = None

    @property
    def count(self) -> int:
        return (self.slack is not None) + (self.discord is not None)

    async def start(self) -> None:
        if self.slack is not None:
            await self.slack.start()
        if self.discord is not None:
            await self.discord.start()

    async def stop(self) -> None:
        if self.discord is not None:
            await self.discord.stop()
        if self.slack is not None:
            await self.slack.stop()


def build_platforms(settings: Settings, runtime: Runtime) -> Platforms:
    """The adapters whose tokens are set, registered with the engine (not yet started)."""
    platforms = Platforms()
    agent_id = runtime.default_agent.id
    try:
        if settings.slack_bot_token or settings.slack_client_id:
            slack = SlackAdapter(
                SlackConfig(
                    agent_id=agent_id,
                    bot_token=_secret(settings.slack_bot_token),
                    client_id=settings.slack_client_id or "",
                    client_secret=_secret(settings.slack_client_secret),
                    app_token=_secret(settings.slack_app_token),
                    signing_secret=_secret(settings.slack_signing_secret),
                    default_policy=ChannelPolicy(settings.slack_channel_policy),
                    channel_policies={
                        c: ChannelPolicy(p)
                        for c, p in parse_policies(settings.slack_channel_policies).items()
                    },
                ),
                runtime.engine,
                runtime.user_data,
                runtime.store.kv,
            )
            runtime.engine.register_platform(slack.platform_port)
            platforms.slack = slack
        if settings.discord_token:
            discord = DiscordAdapter(
                DiscordConfig(
                    token=_secret(settings.discord_token),
                    agent_id=agent_id,
                    sharded=settings.discord_sharded,
                    default_policy=ChannelPolicy(settings.discord_channel_policy),
                    channel_policies={
                        c: ChannelPolicy(p)
                        for c, p in parse_policies(settings.discord_channel_policies).items()
                    },
                    message_content=settings.discord_message_content,
                ),
                runtime.engine,
                runtime.user_data,
            )
            runtime.engine.register_platform(discord.platform_port)
            platforms.discord = discord
    except ValueError as exc:
        raise SettingsError(str(exc)) from None
    return platforms
