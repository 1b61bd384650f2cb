"""Discord channel history into recall: ``/learn-channel`` and the bot joining a server.

The newest messages within the bounds are read (discord.py pages them and waits out Discord's
rate limits itself) and handed over oldest first, since a Discord channel is one conversation
whose recall keeps the order messages arrive in; each is read as a live message is
(``inbound.arrival_from_message``), so authors, threads and audience are the live ones. After
each page the id of its newest message is saved: a read that stopped continues after it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

import discord
from discord import app_commands

from adapters.discord.audience import PLATFORM, UnmappableChannel, guild_workspace
from adapters.discord.config import DiscordConfig
from adapters.discord.inbound import arrival_from_message
from adapters.history import ChannelHistory, HistoryPage, HistoryTarget, HistoryUnavailable
from adapters.intake import Arrival

log = logging.getLogger(__name__)

#: Messages handed over per page (Discord's own page size).
PAGE = 100
#: Seconds to look up a channel to resume reading when the client has not cached it.
LOOKUP_TIMEOUT_S = 5.0
#: Where /learn-channel can run: server channels and threads.
IN_SERVERS = app_commands.AppCommandContext(guild=True, dm_channel=False, private_channel=False)

type ReadableChannel = discord.TextChannel | discord.Thread | discord.VoiceChannel

_CANNOT_READ = "give me View Channel and Read Message History there, then ask again"


class DiscordChannelSource:
    """One Discord channel's (or thread's) history, as the bot user ``me`` reads it."""

    def __init__(
        self, channel: ReadableChannel, me: discord.abc.User, agent_id: str, page: int = PAGE
    ) -> None:
        self._channel = channel
        self._me = me
        self._agent_id = agent_id
        self._page = page

    async def check(self) -> None:
        """Raise ``HistoryUnavailable`` unless Discord lets the bot read the channel."""
        async for _ in self._history(limit=1):
            break

    async def pages(
        self, cursor: str, since: datetime | None, limit: int
    ) -> AsyncIterator[HistoryPage]:
        """Messages after ``cursor`` (a message id) oldest first; from the start, the newest
        ``limit`` sent after ``since``, oldest first."""
        if cursor:
            batch: list[discord.Message] = []
            after = discord.Object(int(cursor))
            async for message in self._history(limit=limit, after=after, oldest_first=True):
                batch.append(message)
                if len(batch) == self._page:
                    yield self._read(batch)
                    batch = []
            if batch:
                yield self._read(batch)
            return
        newest = [m async for m in self._history(limit=limit, after=since, oldest_first=False)]
        newest.reverse()
        for start in range(0, len(newest), self._page):
            yield self._read(newest[start : start + self._page])

    async def _history(self, **query: Any) -> AsyncIterator[discord.Message]:
        try:
            async for message in self._channel.history(**query):
                yield message
        except discord.Forbidden as error:
            raise HistoryUnavailable(
                f"Discord refused ({error.text or 'Missing Access'}): {_CANNOT_READ}"
            ) from error
        except discord.HTTPException as error:
            raise HistoryUnavailable(f"Discord answered {error.status}: ask again later") from error

    def _read(self, batch: Sequence[discord.Message]) -> HistoryPage:
        arrivals: list[Arrival] = []
        for message in batch:
            try:
                arrival = arrival_from_message(message, self._me, self._agent_id)
            except UnmappableChannel as error:
                log.info("a past discord message was passed over: %s", error)
                continue
            if arrival is not None:
                arrivals.append(arrival)
        return HistoryPage(tuple(arrivals), len(batch), str(batch[-1].id))


class DiscordHistory:
    """Starts channel history reads: on ``/learn-channel``, when the bot joins a server, and
    (once ready) those a stop interrupted."""

    def __init__(
        self, client: discord.Client, config: DiscordConfig, reader: ChannelHistory
    ) -> None:
        self._client = client
        self._config = config
        self._reader = reader

    def command(self) -> app_commands.Command[Any, ..., None]:
        """``/learn-channel``: shown to members who may manage the server, checked again here."""
        command: app_commands.Command[Any, ..., None] = app_commands.Command(
            name="learn-channel",
            description="Learn this channel's past messages (server admins).",
            callback=self._learn_channel,
            allowed_contexts=IN_SERVERS,
        )
        command.default_permissions = discord.Permissions(manage_guild=True)
        return command

    async def on_guild_join(self, guild: discord.Guild) -> None:
        """A new server: read the history of each text channel the bot may read."""
        if not self._config.serving.history.on_join:
            return
        for channel in guild.text_channels:
            mine = channel.permissions_for(guild.me)
            if mine.view_channel and mine.read_message_history:
                answer = await self.begin(channel, again=False)
                log.info("joined discord server %s: %s", guild.id, answer)

    async def resume(self) -> None:
        """Continue the reads a stop interrupted."""
        for progress in await self._reader.unfinished(PLATFORM, self._config.agent_id):
            channel_id = int(progress.channel)
            channel = self._client.get_channel(channel_id)
            try:
                if channel is None:  # a server that was not ready yet: ask Discord
                    async with asyncio.timeout(LOOKUP_TIMEOUT_S):
                        channel = await self._client.fetch_channel(channel_id)
            except (discord.HTTPException, discord.InvalidData, TimeoutError) as error:
                log.warning("history of discord channel %s not resumed: %r", channel_id, error)
                continue
            if isinstance(channel, discord.TextChannel | discord.Thread | discord.VoiceChannel):
                answer = await self.begin(channel, again=False)
                log.info("history of discord channel %s: %s", channel_id, answer)

    async def stop(self) -> None:
        await self._reader.stop()

    async def begin(self, channel: ReadableChannel, *, again: bool) -> str:
        """Start reading ``channel`` unless it cannot be read; what happened, in a sentence."""
        me = self._client.user
        place = _name(channel)
        served = self._config.serving.served_channels
        if (
            served
            and str(channel.id) not in served
            and str(getattr(channel, "parent_id", "")) not in served
        ):
            return f"I don't serve {place}, so I won't learn its history."
        if me is None:
            return "I'm not connected to Discord yet; ask again in a moment."
        target = HistoryTarget(
            PLATFORM,
            self._config.agent_id,
            guild_workspace(channel.guild.id),
            str(channel.id),
            place,
        )
        source = DiscordChannelSource(channel, me, self._config.agent_id)
        return await self._reader.begin(target, source, again=again)

    async def _learn_channel(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await interaction.followup.send(await self._answer(interaction), ephemeral=True)

    async def _answer(self, interaction: discord.Interaction) -> str:
        asker = interaction.permissions
        if not (asker.administrator or asker.manage_guild):
            return "Only server admins (Manage Server) can ask me to learn a channel's history."
        channel = interaction.channel
        if not isinstance(channel, discord.TextChannel | discord.Thread | discord.VoiceChannel):
            return "Run /learn-channel in the server channel whose history I should learn."
        mine = interaction.app_permissions
        if not (mine.view_channel and mine.read_message_history):
            return f"I can't read {_name(channel)}'s history: {_CANNOT_READ}."
        return await self.begin(channel, again=True)


def _name(channel: ReadableChannel) -> str:
    if isinstance(channel, discord.Thread) and channel.parent is not None:
        return f"#{channel.parent.name} / {channel.name}"
    return f"#{channel.name}"
