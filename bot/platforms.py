"""Slack and Discord bots built from settings and the agents file, each speaking as one agent.

The SLACK_* and DISCORD_* settings are the default agent's bots, with the settings' channel
policies. An agent whose agents-file platform entry names environment variables holding its own
tokens gets its own bot in the same process, with that entry's policies (its Slack app runs in
Socket Mode, so several apps share one process). Every bot hears the deployment's other agents'
bot users as agents, under one traffic policy, and only in the channels its agent serves: its
intake chain (``adapters.intake``) decides.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from dotenv import dotenv_values
from pydantic import SecretStr

from adapters.discord import DiscordAdapter, DiscordConfig
from adapters.history import HistoryBounds
from adapters.policy import ChannelPolicy
from adapters.serving import Serving
from adapters.shared_files import FileLearning
from adapters.slack import SLACK_API_URL, SlackAdapter, SlackConfig
from bot.platform_services import PlatformServices
from bot.settings import Settings, SettingsError, parse_policies
from engine import (
    AgentDefinition,
    DeliveryError,
    Inbound,
    Outbound,
    PlatformPort,
    PlatformSpec,
)

type Adapter = SlackAdapter | DiscordAdapter


@dataclass(frozen=True, slots=True)
class Endpoints:
    """Where the bots connect: the public services, unless a proxy or a local fake stands in."""

    slack_api_url: str = SLACK_API_URL
    discord_api_base: str | None = None
    discord_gateway_url: str | None = None


@dataclass(slots=True)
class Platforms:
    """The process's bots; ``slack`` is the default agent's app, whose HTTP routes mount."""

    slack: SlackAdapter | None = None
    discord: DiscordAdapter | None = None
    #: Bots of agents with their own tokens in the agents file.
    agent_bots: list[Adapter] = field(default_factory=list)

    @property
    def all(self) -> list[Adapter]:
        return [a for a in (self.slack, self.discord) if a is not None] + self.agent_bots

    @property
    def count(self) -> int:
        return len(self.all)

    @property
    def problems(self) -> list[str]:
        """Why some bot hears nothing now (its Discord gateway or Slack Socket Mode
        connection is down); empty if none."""
        return [p for a in self.all if (p := a.problem)]

    @property
    def gateway_restarts(self) -> int:
        """Discord gateway connections restarted after errors discord.py does not handle."""
        return sum(a.gateway_restarts for a in self.all if isinstance(a, DiscordAdapter))

    async def start(self) -> None:
        for adapter in self.all:
            await adapter.start()

    async def stop(self) -> None:
        # Reverse order: Discord bots restore discord.py's class-wide endpoints as they stop.
        for adapter in reversed(self.all):
            await adapter.stop()


class AgentPorts:
    """One platform's delivery when several agents have their own bot on it: each reply goes
    out through the bot of the agent that wrote it."""

    def __init__(self, platform: str, ports: Mapping[str, PlatformPort]) -> None:
        self._platform = platform
        self._ports = dict(ports)

    @property
    def platform(self) -> str:
        return self._platform

    async def deliver(self, reply: Outbound) -> str:
        return await self._port(reply.agent_id).deliver(reply)

    @asynccontextmanager
    async def working(self, inbound: Inbound) -> AsyncIterator[None]:
        async with self._port(inbound.agent_id).working(inbound):
            yield

    def _port(self, agent_id: str) -> PlatformPort:
        port = self._ports.get(agent_id)
        if port is None:
            raise DeliveryError(
                f"agent {agent_id} has no {self._platform} bot in this process", permanent=True
            )
        return port


def process_environment() -> dict[str, str]:
    """Where agents' token variables are read: the environment over ``.env``, as settings."""
    from_file = {k: v for k, v in dotenv_values(".env").items() if v is not None}
    return from_file | dict(os.environ)


def build_platforms(
    settings: Settings,
    services: PlatformServices,
    *,
    environ: Mapping[str, str] | None = None,
    endpoints: Endpoints = Endpoints(),
) -> Platforms:
    """Every configured bot, registered with the engine (not yet started)."""
    builder = _Builder(
        settings, services, process_environment() if environ is None else environ, endpoints
    )
    try:
        return builder.build()
    except ValueError as exc:
        raise SettingsError(str(exc)) from None


@dataclass(slots=True)
class _Builder:
    settings: Settings
    services: PlatformServices
    environ: Mapping[str, str]
    endpoints: Endpoints
    ports: dict[str, dict[str, PlatformPort]] = field(default_factory=dict)

    def build(self) -> Platforms:
        platforms = Platforms()
        platforms.slack = self._default_slack()
        platforms.discord = self._default_discord()
        for definition in self._declared():
            platforms.agent_bots.extend(self._agent_bots(definition))
        for platform, ports in self.ports.items():
            port = next(iter(ports.values())) if len(ports) == 1 else AgentPorts(platform, ports)
            self.services.register_platform(port)
        return platforms

    def _declared(self) -> tuple[AgentDefinition, ...]:
        agents_file = self.services.agents_file
        return agents_file.agents if agents_file is not None else ()

    def _spec(self, agent_name: str, platform: str) -> PlatformSpec | None:
        agents_file = self.services.agents_file
        definition = agents_file.agent(agent_name) if agents_file is not None else None
        return definition.platforms.get(platform) if definition is not None else None

    def _add[A: Adapter](self, agent_id: str, adapter: A) -> A:
        """``adapter`` delivers the replies of its agent ``agent_id`` and shows its approval
        requests (when it can decide them)."""
        port = adapter.platform_port
        ports = self.ports.setdefault(port.platform, {})
        if agent_id in ports:
            raise ValueError(
                f"agent {self.services.default_agent.name} has its own {port.platform} tokens "
                f"in the agents file and the {port.platform.upper()}_* settings are set too: "
                "keep one"
            )
        ports[agent_id] = port
        register = self.services.register_approvals
        if adapter.approvals is not None and register is not None:
            register(adapter.approvals)
        return adapter

    # -- the default agent, from SLACK_* / DISCORD_* ---------------------------------------

    def _default_slack(self) -> SlackAdapter | None:
        s = self.settings
        if not (s.slack_bot_token or s.slack_client_id):
            return None
        agent = self.services.default_agent
        spec = self._spec(agent.name, "slack")
        config = SlackConfig(
            agent_id=agent.id,
            bot_token=_secret(s.slack_bot_token),
            client_id=s.slack_client_id or "",
            client_secret=_secret(s.slack_client_secret),
            app_token=_secret(s.slack_app_token),
            signing_secret=_secret(s.slack_signing_secret),
            default_policy=ChannelPolicy(s.slack_channel_policy),
            channel_policies=_policies(parse_policies(s.slack_channel_policies)),
            api_base_url=self.endpoints.slack_api_url,
            serving=self._serving("slack", spec),
        )
        return self._slack(config)

    def _default_discord(self) -> DiscordAdapter | None:
        s = self.settings
        if not s.discord_token:
            return None
        agent = self.services.default_agent
        config = self._discord_config(
            agent.id,
            _secret(s.discord_token),
            ChannelPolicy(s.discord_channel_policy),
            _policies(parse_policies(s.discord_channel_policies)),
            self._spec(agent.name, "discord"),
        )
        return self._discord(config)

    # -- agents with their own tokens in the agents file -----------------------------------

    def _agent_bots(self, definition: AgentDefinition) -> list[Adapter]:
        bots: list[Adapter] = []
        for platform, spec in definition.platforms.items():
            if not spec.has_credentials:
                continue
            agent = self._agent_id(definition.name, platform, spec)
            policy, overrides = ChannelPolicy(spec.policy), _policies(spec.channel_policies)
            try:
                if platform == "slack":
                    config = SlackConfig(
                        agent_id=agent,
                        bot_token=self._token(definition.name, spec.bot_token_env),
                        app_token=self._token(definition.name, spec.app_token_env),
                        default_policy=policy,
                        channel_policies=overrides,
                        api_base_url=self.endpoints.slack_api_url,
                        serving=self._serving("slack", spec),
                    )
                    bots.append(self._slack(config))
                else:
                    token = self._token(definition.name, spec.token_env)
                    config_d = self._discord_config(agent, token, policy, overrides, spec)
                    bots.append(self._discord(config_d))
            except ValueError as exc:
                raise ValueError(f"agent {definition.name} ({platform}): {exc}") from None
        return bots

    def _agent_id(self, name: str, platform: str, spec: PlatformSpec) -> str:
        # The agents file is applied before the bots are built, and an agent with its own bot
        # declares its bot user, so the peers map knows its id.
        peer = self.services.peer_agents.get(platform, {}).get(spec.bot_user)
        if peer is None or peer.name != name:
            raise ValueError(f"agent {name} is not applied from MNEMO_AGENTS_FILE")
        return peer.agent_id

    def _token(self, agent: str, variable: str) -> str:
        value = self.environ.get(variable, "").strip()
        if not value:
            raise ValueError(
                f"MNEMO_AGENTS_FILE: agent {agent}'s token is read from {variable}, which is "
                "not set: set it in the environment (or .env)"
            )
        return value

    # -- adapters ----------------------------------------------------------------------------

    def _serving(self, platform: str, spec: PlatformSpec | None) -> Serving:
        """What one bot serves and learns: the deployment's agents and traffic policy, its
        agent's channels and file learning (``spec``), and the history settings."""
        s = self.settings
        return Serving(
            peer_agents=self.services.peer_agents.get(platform, {}),
            traffic=self.services.channel_traffic,
            served_channels=frozenset(spec.channels) if spec is not None else frozenset(),
            history=HistoryBounds(s.history_days, s.history_messages, s.history_on_join),
            file_learning=FileLearning.of(
                spec.learn_files if spec is not None else (), s.shared_file_max_bytes
            ),
        )

    def _slack(self, config: SlackConfig) -> SlackAdapter:
        services = self.services
        adapter = SlackAdapter(
            config,
            services.intake,
            services.user_data,
            services.slack_installations,
            services.deliveries,
            ratings=services.ratings,
            sources=services.sources,
            approvals=services.approvals,
        )
        return self._add(config.agent_id, adapter)

    def _discord_config(
        self,
        agent_id: str,
        token: str,
        policy: ChannelPolicy,
        overrides: Mapping[str, ChannelPolicy],
        spec: PlatformSpec | None,
    ) -> DiscordConfig:
        s = self.settings
        return DiscordConfig(
            token=token,
            agent_id=agent_id,
            sharded=s.discord_sharded,
            default_policy=policy,
            channel_policies=overrides,
            message_content=s.discord_message_content,
            api_base=self.endpoints.discord_api_base,
            gateway_url=self.endpoints.discord_gateway_url,
            serving=self._serving("discord", spec),
        )

    def _discord(self, config: DiscordConfig) -> DiscordAdapter:
        services = self.services
        adapter = DiscordAdapter(
            config,
            services.intake,
            services.user_data,
            services.channel_history,
            sources=services.sources,
            approvals=services.approvals,
        )
        return self._add(config.agent_id, adapter)


def _secret(value: SecretStr | None) -> str:
    return value.get_secret_value() if value is not None else ""


def _policies(policies: Mapping[str, str]) -> dict[str, ChannelPolicy]:
    return {channel: ChannelPolicy(policy) for channel, policy in policies.items()}
