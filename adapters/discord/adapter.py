"""The Discord bot: a gateway client whose messages go through the intake chain to the engine,
and whose replies the engine posts."""

from __future__ import annotations

import asyncio
import logging
import reprlib
from collections.abc import Callable, Collection, Iterable, Mapping

import discord
from discord import app_commands
from discord.backoff import ExponentialBackoff
from discord.gateway import DiscordWebSocket
from discord.utils import MISSING

from adapters.discord.approvals import DiscordApprovals
from adapters.discord.audience import PLATFORM, UnmappableChannel
from adapters.discord.commands import answer_command_error, user_memory_commands
from adapters.discord.config import DiscordConfig
from adapters.discord.context_menus import message_commands
from adapters.discord.delivery import DiscordDelivery
from adapters.discord.endpoints import Endpoints
from adapters.discord.files import DiscordSharedFiles
from adapters.discord.gateway_watch import GatewayWatch
from adapters.discord.history import DiscordHistory
from adapters.discord.inbound import arrival_from_message, deletion_of, edit_from_message
from adapters.discord.reconnect_log import RECONNECTS
from adapters.discord.stale_components import StaleComponents
from adapters.history import ChannelHistory
from adapters.intake import Arrival, bot_intake
from adapters.shared_files import DocumentLearner
from engine import JSON, ApprovalPort, BackfillLedger, IntakePort, UserMemory

log = logging.getLogger(__name__)

#: Seconds to look up a channel the client has not cached (a DM after a restart).
CHANNEL_LOOKUP_TIMEOUT = 5.0
#: Seconds ``stop()`` waits for the client and its gateway connection to close, each.
GATEWAY_CLOSE_TIMEOUT = 0.5
#: Seconds ``stop()`` waits for refused events still being recorded.
REFUSALS_TIMEOUT = 5.0
#: A refused event is kept for the operator as a bounded preview, never whole.
_PREVIEW = reprlib.Repr(maxlevel=4, maxdict=20, maxlist=10, maxstring=400, maxother=100)

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

    def __init__(
        self,
        config: DiscordConfig,
        inbox: IntakePort,
        memory: UserMemory,
        history: BackfillLedger | None = None,
        sources: DocumentLearner | None = None,
        approvals: ApprovalPort | None = None,
    ) -> None:
        self._config = config
        self._intake = bot_intake(inbox, config.policies, config.serving)
        #: Attachments shared with the bot, learned where ``config.serving.file_learning`` says.
        learner = config.serving.file_learner(sources, "server")
        self._files = DiscordSharedFiles(learner) if learner is not None else None
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
        for menu in message_commands(memory, config.agent_id):
            self._tree.add_command(menu)
        self._tree.error(answer_command_error)
        #: Channel history reads (/learn-channel, joining a server), when they can keep progress.
        self._history: DiscordHistory | None = None
        if history is not None:
            serving = config.serving
            reader = ChannelHistory(inbox, config.policies, serving, history, serving.history)
            self._history = DiscordHistory(self._client, config, reader)
            self._tree.add_command(self._history.command())
            self._client.event(self._history.on_guild_join)
        self._client.event(self.on_message)
        self._client.event(self.on_raw_message_edit)
        self._client.event(self.on_raw_message_delete)
        self._client.event(self.on_raw_bulk_message_delete)
        self._client.event(self.on_ready)
        self._client.event(self.on_resumed)
        RECONNECTS.install()
        self._delivery = DiscordDelivery(self._client)
        #: Approve / Deny prompts for tool calls that wait for a person.
        self.approvals = (
            DiscordApprovals(self._client, config.agent_id, approvals) if approvals else None
        )
        self._watch = GatewayWatch(self._refused)
        stale = StaleComponents(self._client)
        stale.watch(self._client._connection.parsers)
        self._client.event(stale.on_interaction)
        self._watch.guard(self._client._connection.parsers, self._websockets)
        self._refusals: set[asyncio.Task[None]] = set()
        self._connection: asyncio.Task[None] | None = None
        self._stopping = False
        #: The gateway was ready once: errors from now on restart it instead of failing start.
        self._listening = False
        self._endpoints = Endpoints(config.api_base, config.gateway_url)

    @property
    def platform_port(self) -> DiscordDelivery:
        return self._delivery

    @property
    def client(self) -> discord.Client:
        return self._client

    @property
    def problem(self) -> str | None:
        """Why the bot hears nothing now (its gateway connection is down), or None."""
        if not self._listening:
            return "discord gateway not connected yet"
        if self._connection is not None and self._connection.done() and not self._stopping:
            return "discord gateway connection ended"
        return self._watch.problem

    @property
    def gateway_restarts(self) -> int:
        """Times the gateway connection was restarted after an error discord.py does not handle."""
        return self._watch.restarts

    async def start(self) -> None:
        self._endpoints.point()
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
        self._stopping = False
        self._connection = asyncio.create_task(self._run_gateway(), name="discord-gateway")
        ready = asyncio.create_task(self._client.wait_until_ready())
        done, _ = await asyncio.wait(
            {self._connection, ready},
            timeout=self._config.start_timeout,
            return_when=asyncio.FIRST_COMPLETED,
        )
        if ready in done:
            self._listening = True
            log.info(
                "discord bot %s connected for agent %s", self._client.user, self._config.agent_id
            )
            if self._history is not None:
                await self._history.resume()
            return
        ready.cancel()
        connection = self._connection
        await self.stop()
        if connection in done and (failure := connection.exception()) is not None:
            # Why the gateway closed (e.g. intents refused). When the first connection never
            # opened, discord.py's retry fails on the session it would resume (None): the
            # network error behind that is the reason.
            if isinstance(failure, AttributeError) and isinstance(failure.__context__, OSError):
                raise failure.__context__ from None
            raise failure
        raise TimeoutError(
            f"The Discord gateway did not become ready within {self._config.start_timeout:.0f} s: "
            "check the network and Discord's status page."
        )

    async def stop(self) -> None:
        """Disconnect at once, in any state: a gateway connection that does not end within
        ``GATEWAY_CLOSE_TIMEOUT`` (connecting, or waiting out a reconnect backoff) is cancelled."""
        self._stopping = True
        if self._history is not None:
            await self._history.stop()
        if self._files is not None:
            await self._files.learner.stop()
        try:
            async with asyncio.timeout(GATEWAY_CLOSE_TIMEOUT):
                await self._client.close()
        except TimeoutError:
            log.info("discord client did not close within %.1f s", GATEWAY_CLOSE_TIMEOUT)
        connection, self._connection = self._connection, None
        if connection is not None:
            done, _ = await asyncio.wait({connection}, timeout=GATEWAY_CLOSE_TIMEOUT)
            if not done:
                connection.cancel()
                await asyncio.wait({connection})
            elif not connection.cancelled() and (error := connection.exception()) is not None:
                log.info("discord gateway closed: %r", error)
        if self._refusals:
            await asyncio.wait(set(self._refusals), timeout=REFUSALS_TIMEOUT)
        self._endpoints.restore()

    async def _run_gateway(self) -> None:
        """``Client.connect()``, started again whenever it ends with an error once the bot
        has been ready (before that, ``start()`` reports the error)."""
        backoff: ExponentialBackoff[bool] = ExponentialBackoff()
        while not self._stopping:
            try:
                if self._client.is_closed():
                    await self._reopen()
                await self._client.connect()
                return
            except Exception as error:
                if self._stopping or not self._listening:
                    raise
                self._watch.failed(error, "connection ended")
            await asyncio.sleep(backoff.delay())

    async def _reopen(self) -> None:
        """discord.py closes the client after a close code it does not resume from (and its
        HTTP session with it): open both again, as a new session."""
        client = self._client
        client.clear()
        client.http.connector = MISSING  # closed with the old HTTP session
        await client._async_setup_hook()  # close() dropped the event loop it had bound
        await client.login(self._config.token)

    def _websockets(self) -> Iterable[DiscordWebSocket | None]:
        """The client's gateway connections: one, or one per shard."""
        client = self._client
        if isinstance(client, discord.AutoShardedClient):
            return [client._get_websocket(shard_id=shard) for shard in client.shards]
        return [client.ws]

    def _refused(self, event: str, data: object, reason: str) -> None:
        """Keep a gateway event discord.py could not read, with why, for the operator."""
        fields = data if isinstance(data, Mapping) else {}
        raw: JSON = {
            "event": event,
            **{
                key: _bounded(fields[key])
                for key in ("id", "channel_id", "guild_id")
                if key in fields
            },
            "payload": _PREVIEW.repr(data),
        }
        task = asyncio.create_task(self._intake.reject(PLATFORM, raw, reason))
        self._refusals.add(task)
        task.add_done_callback(self._refusal_recorded)

    def _refusal_recorded(self, task: asyncio.Task[None]) -> None:
        self._refusals.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            log.error("recording a refused discord event failed: %r", error)

    async def on_ready(self) -> None:
        RECONNECTS.connected()

    async def on_resumed(self) -> None:
        RECONNECTS.connected()

    async def on_message(self, message: discord.Message) -> None:
        """Hand a message to the intake chain, which decides whether it is for the agent;
        then its attachments to be learned."""
        arrival = await self._take(message, arrival_from_message, "message")
        if arrival is not None and self._files is not None:
            self._files.take(message, arrival)

    async def on_raw_message_edit(self, event: discord.RawMessageUpdateEvent) -> None:
        """An edit replaces the stored text of the message (raw: the bot keeps no cache)."""
        await self._take(event.message, edit_from_message, "edit of")

    async def on_raw_message_delete(self, event: discord.RawMessageDeleteEvent) -> None:
        """A deletion removes the message from recall."""
        cached = event.cached_message
        author = cached.author if cached is not None else None
        await self._delete((event.message_id,), event.channel_id, event.guild_id, author)

    async def on_raw_bulk_message_delete(self, event: discord.RawBulkMessageDeleteEvent) -> None:
        """A moderator's purge removes every message of it, as single deletions do."""
        await self._delete(sorted(event.message_ids), event.channel_id, event.guild_id, None)

    async def _delete(
        self,
        message_ids: Collection[int],
        channel_id: int,
        guild_id: int | None,
        author: discord.abc.User | None,
    ) -> None:
        me = self._client.user
        channel = await self._channel(channel_id)
        guild = self._client.get_guild(guild_id) if guild_id else None
        for message_id in message_ids:
            try:
                if channel is None:
                    raise UnmappableChannel(
                        f"channel {channel_id} is unknown to the bot and Discord"
                    )
                arrival = deletion_of(
                    message_id, channel, author, str(me.id) if me else "", self._config.agent_id
                )
            except UnmappableChannel as error:
                await self._reject(message_id, channel_id, guild, error)
                continue
            await self._hand_over(arrival, "deletion of", message_id)
            if self._files is not None:
                gone = arrival.inbound
                self._files.learner.message_gone(gone.workspace, gone.channel, gone.message_ref)

    async def _channel(self, channel_id: int) -> object:
        """The channel from the client's cache, or asked of Discord: DM channels are cached
        only once a message arrived in them since the bot started."""
        channel = self._client.get_channel(channel_id)
        if channel is not None and not (
            isinstance(channel, discord.DMChannel) and channel.recipient is None
        ):
            return channel
        try:
            async with asyncio.timeout(CHANNEL_LOOKUP_TIMEOUT):
                return await self._client.fetch_channel(channel_id)
        except (discord.HTTPException, discord.InvalidData, TimeoutError) as error:
            log.info("discord channel %s could not be looked up: %r", channel_id, error)
            return channel

    async def _take(
        self, message: discord.Message, read: _MessageReader, what: str
    ) -> Arrival | None:
        """The message's arrival, handed to the intake chain; None when it was not read."""
        me = self._client.user
        if me is None:
            return None
        try:
            arrival = read(message, me, self._config.agent_id)
        except Exception as error:  # an odd message must cost that message, never the handler
            if not isinstance(error, UnmappableChannel):
                log.exception("discord %s %s could not be read", what, message.id)
            author = getattr(message, "author", None)  # discord.py skips an unreadable author
            await self._reject(message.id, message.channel.id, message.guild, error, author)
            return None
        await self._hand_over(arrival, what, message.id)
        return arrival

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
        await self._intake.reject(PLATFORM, raw, str(error) or repr(error))


def _bounded(value: object) -> str:
    """An event's field as the operator reads it, cut to a sensible length."""
    return value[: _PREVIEW.maxstring] if isinstance(value, str) else _PREVIEW.repr(value)
