"""The Discord bot: a gateway client whose messages go through the intake chain to the engine,
and whose replies the engine posts."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import discord
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket
from discord.http import Route

from adapters.discord.audience import PLATFORM, UnmappableChannel
from adapters.discord.commands import user_memory_commands
from adapters.discord.config import DiscordConfig
from adapters.discord.delivery import DiscordDelivery
from adapters.discord.inbound import arrival_from_message, deletion_from_event, edit_from_message
from adapters.intake import Arrival, bot_intake
from engine import JSON, IntakePort, UserMemory

log = logging.getLogger(__name__)

# The bots never join voice, so discord.py's start-up warnings about missing voice packages
# (PyNaCl, davey) only alarm operators.
discord.VoiceClient.warn_nacl = False
discord.VoiceClient.warn_dave = False

#: Reads a gateway message (as seen by the bot user, for an agent) into an arrival.
type _MessageReader = Callable[[discord.Message, discord.abc.User, str], Arrival | None]


def gateway_intents(config: DiscordConfig) -> discord.Intents:
    """Guilds (channel permissions for audiences) and messages; no privileged intent unless
    the Message Content intent is asked for."""
    return discord.Intents(
        guilds=True,
        guild_messages=True,
        dm_messages=True,
        message_content=config.message_content,
    )


class DiscordAdapter:
    """One bot connection (or shard set) for one agent.

    ``start()`` logs in, registers the slash commands and returns once the gateway is ready;
    ``stop()`` disconnects. ``platform_port`` is what the engine delivers replies through.
    """

    def __init__(self, config: DiscordConfig, inbox: IntakePort, memory: UserMemory) -> None:
        self._config = config
        self._intake = bot_intake(inbox, config)
        client_type = discord.AutoShardedClient if config.sharded else discord.Client
        self._client = client_type(
            intents=gateway_intents(config),
            max_messages=None,
            chunk_guilds_at_startup=False,
            guild_ready_timeout=config.guild_ready_timeout,
            max_ratelimit_timeout=config.max_rate_limit_wait,
        )
        self._tree = app_commands.CommandTree(self._client)
        for command in user_memory_commands(memory):
            self._tree.add_command(command)
        self._client.event(self.on_message)
        self._client.event(self.on_raw_message_edit)
        self._client.event(self.on_raw_message_delete)
        self._delivery = DiscordDelivery(self._client)
        self._connection: asyncio.Task[None] | None = None
        self._endpoints: tuple[str, yarl.URL] | None = None

    @property
    def platform_port(self) -> DiscordDelivery:
        return self._delivery

    @property
    def client(self) -> discord.Client:
        return self._client

    async def start(self) -> None:
        self._point_at_endpoints()
        try:
            await self._client.login(self._config.token)
        except discord.LoginFailure as error:
            await self._client.close()
            raise RuntimeError(
                "Discord refused the bot token: reset it in the developer portal "
                "(Bot -> Reset Token) and update DISCORD_TOKEN."
            ) from error
        if self._config.sync_commands:
            await self._tree.sync()
        self._connection = asyncio.create_task(self._client.connect(), name="discord-gateway")
        ready = asyncio.create_task(self._client.wait_until_ready())
        done, _ = await asyncio.wait(
            {self._connection, ready},
            timeout=self._config.start_timeout,
            return_when=asyncio.FIRST_COMPLETED,
        )
        if ready in done:
            log.info(
                "discord bot %s connected for agent %s", self._client.user, self._config.agent_id
            )
            return
        ready.cancel()
        await self.stop()
        if self._connection in done:
            self._connection.result()  # raises why the gateway closed (e.g. intents refused)
        raise TimeoutError(
            f"The Discord gateway did not become ready within {self._config.start_timeout:.0f} s: "
            "check the network and Discord's status page."
        )

    async def stop(self) -> None:
        await self._client.close()
        if self._connection is not None:
            try:
                await asyncio.wait_for(self._connection, timeout=10)
            except (discord.DiscordException, TimeoutError) as error:
                log.info("discord gateway closed: %r", error)
            self._connection = None
        self._restore_endpoints()

    async def on_message(self, message: discord.Message) -> None:
        """Hand a message to the intake chain, which decides whether it is for the agent."""
        await self._take(message, arrival_from_message, "message")

    async def on_raw_message_edit(self, event: discord.RawMessageUpdateEvent) -> None:
        """An edit replaces the stored text of the message (raw: the bot keeps no cache)."""
        await self._take(event.message, edit_from_message, "edit of")

    async def on_raw_message_delete(self, event: discord.RawMessageDeleteEvent) -> None:
        """A deletion removes the message from recall."""
        me = self._client.user
        channel = self._client.get_channel(event.channel_id)
        try:
            arrival = deletion_from_event(
                event, channel, str(me.id) if me else "", self._config.agent_id
            )
        except UnmappableChannel as error:
            guild = self._client.get_guild(event.guild_id) if event.guild_id else None
            await self._reject(event.message_id, event.channel_id, guild, error)
            return
        await self._hand_over(arrival, "deletion of", event.message_id)

    async def _take(self, message: discord.Message, read: _MessageReader, what: str) -> None:
        me = self._client.user
        if me is None:
            return
        try:
            arrival = read(message, me, self._config.agent_id)
        except UnmappableChannel as error:
            await self._reject(message.id, message.channel.id, message.guild, error, message.author)
            return
        await self._hand_over(arrival, what, message.id)

    async def _hand_over(self, arrival: Arrival | None, what: str, message_id: int) -> None:
        if arrival is not None:
            result = await self._intake.receive(arrival)
            log.debug("discord %s %s: %s %s", what, message_id, result.outcome, result.reason)

    async def _reject(
        self,
        message_id: int,
        channel_id: int,
        guild: discord.Guild | None,
        error: Exception,
        author: discord.abc.User | None = None,
    ) -> None:
        """Keep what identifies a message whose audience is unknown, for the operator."""
        raw: JSON = {
            "id": str(message_id),
            "channel_id": str(channel_id),
            "guild_id": str(guild.id) if guild else None,
            "author_id": str(author.id) if author else None,
        }
        await self._intake.reject(PLATFORM, raw, str(error))

    def _point_at_endpoints(self) -> None:
        """discord.py keeps its REST base and gateway URL on classes; set ours for this run."""
        config = self._config
        if config.api_base is None and config.gateway_url is None:
            return
        self._endpoints = (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY)
        if config.api_base is not None:
            Route.BASE = config.api_base
        if config.gateway_url is not None:
            DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(config.gateway_url)

    def _restore_endpoints(self) -> None:
        if self._endpoints is not None:
            Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = self._endpoints
            self._endpoints = None
