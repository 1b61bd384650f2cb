"""Who is who and how private a channel is, looked up through Slack's Web API and cached.

Look-ups run while Slack waits for its ack, so each one is bounded by a timeout and falls back
to a safe answer (the user id as name; "private" when a channel's privacy is unknown, since a
private audience reads and writes the narrowest memory: failing private).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from adapters.slack.events import audience_kind_of
from engine import AudienceKind

log = logging.getLogger(__name__)

LOOKUP_TIMEOUT_S = 1.5


class TtlCache[K, V]:
    """A bounded mapping whose entries expire ``ttl`` seconds after they were stored."""

    def __init__(
        self, ttl: float, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._ttl = ttl
        self._max = max_entries
        self._clock = clock
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, value = entry
        if expires <= self._clock():
            del self._entries[key]
            return None
        return value

    def put(self, key: K, value: V) -> None:
        self._entries[key] = (self._clock() + self._ttl, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)


@dataclass(frozen=True, slots=True)
class ChannelInfo:
    kind: AudienceKind
    name: str
    #: False when Slack would not say (the bot cannot see the channel): ``kind`` is then the
    #: safe guess, private.
    known: bool = True
    #: Shared with another organisation (Slack Connect): people outside the workspace read it.
    shared: bool = False


class SlackDirectory:
    """Display names (``users.info``) and channel privacy (``conversations.info``), cached."""

    def __init__(
        self,
        user_ttl: float = 3600.0,
        channel_ttl: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._users: TtlCache[tuple[str, str], str] = TtlCache(user_ttl, clock=clock)
        self._channels: TtlCache[tuple[str, str], ChannelInfo] = TtlCache(channel_ttl, clock=clock)

    async def user_name(self, client: AsyncWebClient, team: str, user: str) -> str:
        if not user:
            return ""
        cached = self._users.get((team, user))
        if cached is not None:
            return cached
        response = await _look_up(client.users_info(user=user), "users.info", user)
        if response is None:
            return user
        found = response.get("user") or {}
        profile = found.get("profile") or {}
        name = str(
            profile.get("display_name")
            or profile.get("real_name")
            or found.get("real_name")
            or found.get("name")
            or user
        )
        self._users.put((team, user), name)
        return name

    async def channel(
        self,
        client: AsyncWebClient,
        team: str,
        channel: str,
        channel_type: str,
        *,
        shared: bool = False,
    ) -> ChannelInfo:
        """How private ``channel`` is: the most private of what ``conversations.info`` says
        and what the event says (``channel_type``, ``shared`` for Slack Connect). A channel
        shared with another organisation is never public, since people outside the
        workspace read it; when the look-up fails, every channel but a DM counts as private."""
        if channel_type == "im":
            return ChannelInfo(AudienceKind.DM, "")
        found = self._channels.get((team, channel))
        if found is None:
            response = await _look_up(
                client.conversations_info(channel=channel), "conversations.info", channel
            )
            if response is None:
                return ChannelInfo(AudienceKind.PRIVATE, "", known=False)
            said_by_slack = response.get("channel")
            if not isinstance(said_by_slack, dict):
                said_by_slack = {}
            found = _describe_channel(said_by_slack)
            self._channels.put((team, channel), found)
        said = AudienceKind.PRIVATE if shared else audience_kind_of(channel_type)
        if found.kind is AudienceKind.PUBLIC and said not in (None, AudienceKind.PUBLIC):
            found = ChannelInfo(AudienceKind.PRIVATE, found.name, shared=found.shared)
        return replace(found, shared=True) if shared else found


async def _look_up(
    call: Awaitable[AsyncSlackResponse], method: str, subject: str
) -> AsyncSlackResponse | None:
    """One Web API look-up within ``LOOKUP_TIMEOUT_S``; None (and a warning) when it fails."""
    try:
        async with asyncio.timeout(LOOKUP_TIMEOUT_S):
            return await call
    except (SlackClientError, TimeoutError) as error:
        log.warning("%s failed for %s: %s", method, subject, _reason(error))
        return None


def _describe_channel(channel: dict[str, object]) -> ChannelInfo:
    name = str(channel.get("name") or "")
    shared = any(
        channel.get(flag)
        for flag in ("is_ext_shared", "is_org_shared", "is_shared", "is_pending_ext_shared")
    )
    if channel.get("is_im"):
        return ChannelInfo(AudienceKind.DM, "", shared=shared)
    if channel.get("is_private") or channel.get("is_mpim") or channel.get("is_group") or shared:
        return ChannelInfo(AudienceKind.PRIVATE, f"#{name}" if name else "", shared=shared)
    return ChannelInfo(AudienceKind.PUBLIC, f"#{name}" if name else "")


def _reason(error: BaseException) -> str:
    if isinstance(error, SlackApiError):
        return str(error.response.get("error", "error"))
    return type(error).__name__
