"""Slack channel history into recall: ``conversations.history`` and ``conversations.replies``.

When the bot user joins a channel (``member_joined_channel``), and when a workspace admin runs
``/mnemo learn-channel`` there, the channel's past messages are read newest first, each thread
with its replies, and read exactly as live events are read (``events.parse_event`` and
``arrival_of``): the same authors, threads and audience. Slack limits history reads hard (about
50 a minute per workspace, far fewer for apps not in the Marketplace): the reading client waits
out each ``Retry-After`` many times before it gives up, and a read that gave up continues from
its last page when asked again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_bolt.async_app import AsyncBoltContext
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from adapters.history import (
    ChannelHistory,
    HistoryPage,
    HistoryTarget,
    HistoryUnavailable,
)
from adapters.intake import Arrival
from adapters.slack.clients import WorkspaceClients, build_client
from adapters.slack.config import PLATFORM, SlackConfig
from adapters.slack.directory import LOOKUP_TIMEOUT_S, ChannelInfo, SlackDirectory
from adapters.slack.events import (
    MalformedEvent,
    arrival_of,
    parse_event,
    team_of,
    workspace_id,
)
from adapters.slack.payloads import SlashCommand
from engine import AudienceKind, InboundKind

log = logging.getLogger(__name__)

#: Messages per ``conversations.history`` / ``conversations.replies`` call (Slack's advice).
PAGE = 200
#: Rate-limited history calls retried, each after Slack's ``Retry-After``, before giving up.
RATE_LIMIT_RETRIES = 8

#: Why Slack refuses a history read, as an admin can fix it.
_REFUSALS = {
    "not_in_channel": "I'm not in this channel: invite me (/invite @Mnemo), then ask again",
    "channel_not_found": "I can't see this channel: invite me (/invite @Mnemo), then ask again",
    "missing_scope": "the app lacks the channels:history / groups:history scope: reinstall it",
    "ratelimited": "Slack kept limiting my reads; ask again later and I'll continue",
}


def reading_client(config: SlackConfig, token: str | None) -> AsyncWebClient:
    """A client for long history reads: it waits out rate limits ``RATE_LIMIT_RETRIES`` times."""
    client = build_client(config, token)
    client.retry_handlers = [
        *(h for h in client.retry_handlers if not isinstance(h, AsyncRateLimitErrorRetryHandler)),
        AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
    ]
    return client


@dataclass(frozen=True, slots=True)
class SlackChannelSource:
    """One Slack channel's history, newest top-level message first, each with its thread."""

    client: AsyncWebClient
    directory: SlackDirectory
    agent_id: str
    team: str
    channel: ChannelInfo
    channel_id: str
    bot_user: str
    #: Messages asked for per call.
    page: int = PAGE

    async def check(self) -> None:
        """Raise ``HistoryUnavailable`` unless Slack lets the bot read the channel."""
        await self._call(self.client.conversations_history, channel=self.channel_id, limit=1)

    async def pages(
        self, cursor: str, since: datetime | None, limit: int
    ) -> AsyncIterator[HistoryPage]:
        """Top-level messages older than ``cursor`` (a ts; "" for the newest) and newer than
        ``since``, with their threads; each page's cursor is the ts of its oldest message."""
        latest = cursor or None  # the same bounds on every page of one listing
        oldest = f"{since.timestamp():.6f}" if since is not None else None
        read, next_page = 0, None
        while read < limit:
            response = await self._call(
                self.client.conversations_history,
                channel=self.channel_id,
                latest=latest,
                oldest=oldest,
                limit=min(self.page, limit - read),
                cursor=next_page,
            )
            arrivals: list[Arrival] = []
            counted = 0
            for message in _messages(response):
                if read + counted >= limit:
                    break
                counted += 1
                arrivals += await self._arrivals([message])
                cursor = str(message.get("ts", cursor))
                if message.get("reply_count") and message.get("thread_ts") == message.get("ts"):
                    replies = await self._replies(str(message["ts"]), limit - read - counted)
                    counted += len(replies)
                    arrivals += await self._arrivals(replies)
            read += counted
            yield HistoryPage(tuple(arrivals), counted, cursor)
            next_page = _next_cursor(response)
            if not next_page or not counted:
                return

    async def _replies(self, thread: str, limit: int) -> list[dict[str, Any]]:
        """A thread's replies, oldest first (without its first message, read already)."""
        found: list[dict[str, Any]] = []
        next_page = None
        while len(found) < limit:
            response = await self._call(
                self.client.conversations_replies,
                channel=self.channel_id,
                ts=thread,
                limit=self.page,
                cursor=next_page,
            )
            found += [m for m in _messages(response) if m.get("ts") != thread]
            next_page = _next_cursor(response)
            if not next_page:
                break
        return found[:limit]

    async def _arrivals(self, messages: list[dict[str, Any]]) -> list[Arrival]:
        """Messages as live events of them would arrive; notices and odd shapes give none."""
        arrivals = []
        for message in messages:
            ts = str(message.get("ts", ""))
            body = {
                "type": "event_callback",
                "team_id": self.team,
                "event_id": f"history-{self.channel_id}-{ts}",
                "event": {**message, "type": "message", "channel": self.channel_id},
            }
            try:
                parsed = parse_event(body, self.bot_user)
            except MalformedEvent as error:
                log.info("a past message in %s was passed over: %s", self.channel_id, error)
                continue
            if parsed is None or parsed.kind is not InboundKind.MESSAGE:
                continue
            arrival = arrival_of(
                parsed,
                agent_id=self.agent_id,
                audience_kind=self.channel.kind,
                shared_channel=self.channel.shared,
                author_name=await self.directory.user_name(self.client, self.team, parsed.user),
                channel_name=self.channel.name,
            )
            if arrival is not None:
                arrivals.append(arrival)
        return arrivals

    async def _call(
        self, method: Callable[..., Awaitable[AsyncSlackResponse]], **args: object
    ) -> AsyncSlackResponse:
        try:
            return await method(**{k: v for k, v in args.items() if v is not None})
        except SlackApiError as error:
            code = str(error.response.get("error", "error"))
            raise HistoryUnavailable(_REFUSALS.get(code, f"Slack answered {code}")) from error
        except (SlackClientError, OSError, TimeoutError) as error:
            raise HistoryUnavailable(f"Slack could not be reached ({error!r})") from error


class SlackHistory:
    """Starts channel history reads: when the bot joins a channel, when an admin asks, and
    (at start) those a stop interrupted."""

    def __init__(
        self,
        config: SlackConfig,
        reader: ChannelHistory,
        clients: WorkspaceClients,
        directory: SlackDirectory,
    ) -> None:
        self._config = config
        self._reader = reader
        self._clients = clients
        self._directory = directory

    async def joined(self, body: dict[str, Any], context: AsyncBoltContext) -> None:
        """``member_joined_channel``: when the bot user joined, read the channel's past."""
        event = body.get("event") or {}
        bot_user, team = context.bot_user_id or "", context.team_id or body.get("team_id") or ""
        if not (self._config.serving.history.on_join and bot_user and team):
            return
        if event.get("user") != bot_user or not isinstance(event.get("channel"), str):
            return
        client = context.client or await self._clients.for_team(team)
        answer = await self.begin(client, team, event["channel"], bot_user, again=False)
        log.info("joined slack channel %s: %s", event["channel"], answer)

    async def learn(self, command: SlashCommand, client: AsyncWebClient, bot_user: str) -> str:
        """``/mnemo learn-channel``: what to tell the admin who ran it (or the user who may not)."""
        team, user = command["team_id"], command["user_id"]
        if not await self._is_admin(client, user):
            return "Only workspace admins and owners can ask me to learn a channel's history."
        channel = command.get("channel_id", "")
        if not channel or channel.startswith("D"):
            return "Run `/mnemo learn-channel` in the channel whose history I should learn."
        return await self.begin(client, team, channel, bot_user, again=True)

    async def begin(
        self, client: AsyncWebClient, team: str, channel: str, bot_user: str, *, again: bool
    ) -> str:
        """Start reading ``channel`` unless it cannot be read; what happened, in a sentence."""
        info = await self._directory.channel(client, team, channel, "")
        place = info.name or "this channel"
        if info.kind is AudienceKind.DM:
            return "I learn channels' history, not direct messages."
        served = self._config.serving.served_channels
        if served and channel not in served:
            return f"I don't serve {place}, so I won't learn its history."
        target = HistoryTarget(
            PLATFORM, self._config.agent_id, workspace_id(team), channel, info.name
        )
        source = SlackChannelSource(
            reading_client(self._config, client.token),
            self._directory,
            self._config.agent_id,
            team,
            info,
            channel,
            bot_user,
        )
        return await self._reader.begin(target, source, again=again)

    async def resume(self) -> None:
        """Continue the reads a stop interrupted."""
        for progress in await self._reader.unfinished(PLATFORM, self._config.agent_id):
            team = team_of(progress.workspace)
            try:
                client = await self._clients.for_team(team)
                bot_user = str((await client.auth_test()).get("user_id") or "")
            except Exception as error:  # one workspace's trouble must not stop the others
                log.warning("history of slack %s not resumed: %r", progress.channel, error)
                continue
            await self.begin(client, team, progress.channel, bot_user, again=False)

    async def stop(self) -> None:
        await self._reader.stop()

    async def _is_admin(self, client: AsyncWebClient, user: str) -> bool:
        """A workspace admin or owner, as ``users.info`` says (no when it cannot tell)."""
        try:
            async with asyncio.timeout(LOOKUP_TIMEOUT_S):
                found = (await client.users_info(user=user)).get("user") or {}
        except (SlackClientError, TimeoutError) as error:
            log.warning("users.info failed for %s: %r", user, error)
            return False
        return any(bool(found.get(flag)) for flag in ("is_admin", "is_owner", "is_primary_owner"))


def _messages(response: AsyncSlackResponse) -> list[dict[str, Any]]:
    found = response.get("messages") or []
    return [m for m in found if isinstance(m, dict)]


def _next_cursor(response: AsyncSlackResponse) -> str | None:
    metadata = response.get("response_metadata") or {}
    return str(metadata.get("next_cursor") or "") or None
