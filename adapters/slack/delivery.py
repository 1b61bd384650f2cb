"""Replies -> Slack messages: split to Slack's limit, in the thread, posted at most once.

Idempotency: before posting, a ledger entry for the reply is written to the store's delivery
ledgers, and after each part the ts Slack returned is added to it. When ``deliver`` is called
again for a reply whose entry exists but is incomplete (a crash between posting and recording),
the thread's recent history is searched for parts carrying the reply's id in their message
metadata before anything is posted again. The residual window: a part posted by a process
that crashed before recording it, and which Slack's history does not show yet (or which fell
outside the searched page), is posted a second time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.chunking import split_message
from adapters.slack.clients import WorkspaceClients
from adapters.slack.config import PLATFORM
from adapters.slack.directory import SlackDirectory
from adapters.slack.events import team_of
from adapters.slack.feedback import with_feedback
from adapters.slack.formatting import to_mrkdwn
from adapters.slack.permalinks import SlackLinks
from adapters.slack.streaming import METADATA_EVENT, SlackStreaming, reply_metadata
from engine import (
    DeliveryError,
    DeliveryLedger,
    DeliveryLedgerStore,
    Inbound,
    Outbound,
    ReplyStream,
)

log = logging.getLogger(__name__)

#: Slack truncates ``text`` past 40,000 characters and recommends at most 4,000 per message.
SLACK_TEXT_LIMIT = 4_000
STATUS_TIMEOUT_S = 2.0
THINKING = "is thinking..."
#: Ledger entries are kept this long: far beyond the outbox's last retry of a reply.
LEDGER_DAYS = 7
#: How far back (from the reply's creation) the history is searched on a retry.
_HISTORY_MARGIN = timedelta(minutes=2)
_HISTORY_PAGE = 200

_PERMANENT_ERRORS = frozenset(
    {
        "account_inactive",
        "channel_not_found",
        "invalid_auth",
        "is_archived",
        "missing_scope",
        "msg_too_long",
        "no_permission",
        "no_text",
        "not_authed",
        "not_in_channel",
        "restricted_action",
        "team_access_not_granted",
        "token_revoked",
    }
)


class SlackDelivery(SlackLinks):
    """``engine.PlatformPort`` for Slack, and its ``engine.LinkPort`` (``SlackLinks``)."""

    def __init__(
        self,
        clients: WorkspaceClients,
        ledgers: DeliveryLedgerStore,
        text_limit: int = SLACK_TEXT_LIMIT,
        directory: SlackDirectory | None = None,
        *,
        feedback: bool = False,
    ) -> None:
        super().__init__(clients, directory or SlackDirectory())
        self._ledgers = ledgers
        self._limit = text_limit
        #: Whether a reply's last part carries the feedback buttons.
        self._feedback = feedback
        self._streaming = SlackStreaming(clients, ledgers, text_limit, feedback=feedback)
        #: Channels where assistant.threads.setStatus was refused: not asked again.
        self._no_status: set[tuple[str, str]] = set()
        #: "is thinking..." on its way, by conversation: what is shown there next waits for it.
        self._thinking: dict[tuple[str, str, str], asyncio.Task[bool]] = {}

    @property
    def platform(self) -> str:
        return PLATFORM

    async def deliver(self, reply: Outbound) -> str:
        parts = split_message(to_mrkdwn(reply.text), self._limit)
        if not parts:
            raise DeliveryError("the reply is empty; Slack refuses empty messages", permanent=True)
        client = await self._clients.for_team(team_of(reply.workspace))
        ledger = await self._ledgers.get(reply.id)
        posted = list(ledger.posted) if ledger else []
        if ledger is None:
            # A reply streamed while the model wrote it has its first part posted already.
            try:
                streamed = await self._streaming.complete_draft(
                    client, reply, parts[0], whole=len(parts) == 1
                )
            except SlackApiError as error:
                raise _delivery_error(error) from error
            except (SlackClientError, OSError, TimeoutError) as error:
                raise DeliveryError(f"Slack could not be reached: {error!r}") from error
            posted = [streamed] if streamed is not None else []
            await self._record(reply, posted)
        elif len(posted) < len(parts):
            posted = await self._find_posted(client, reply, posted)
        for index in range(len(posted), len(parts)):
            last = index == len(parts) - 1 and self._feedback
            blocks = with_feedback(reply, parts[index]) if last else None
            posted.append(await self._post(client, reply, index, parts[index], blocks))
            await self._record(reply, posted)
        return posted[0]

    async def open_stream(self, reply: Outbound, answering: Inbound) -> ReplyStream | None:
        """``engine.StreamingPort``: the reply streamed into a thread while the model writes."""
        await self._thinking_shown(answering)
        return await self._streaming.open_stream(reply, answering)

    @asynccontextmanager
    async def working(self, inbound: Inbound) -> AsyncIterator[None]:
        """Show "is thinking..." in the thread (AI assistant threads); elsewhere Slack refuses
        the status and it is skipped. The turn does not wait for it: the steps and the reply
        shown after it wait until it landed."""
        key = _conversation(inbound)
        thinking = asyncio.create_task(self._set_status(inbound, THINKING))
        self._thinking[key] = thinking
        try:
            yield
        finally:
            if self._thinking.get(key) is thinking:
                del self._thinking[key]
            if await thinking:
                await self._set_status(inbound, "")

    async def show_step(self, inbound: Inbound, status: str) -> None:
        """The status line says what the agent is doing now ("searching memory…")."""
        await self._thinking_shown(inbound)
        await self._set_status(inbound, status)

    async def _thinking_shown(self, inbound: Inbound) -> None:
        thinking = self._thinking.get(_conversation(inbound))
        if thinking is not None:
            await asyncio.shield(thinking)

    async def _post(
        self,
        client: AsyncWebClient,
        reply: Outbound,
        index: int,
        text: str,
        blocks: list[dict[str, Any]] | None = None,
    ) -> str:
        try:
            response = await client.chat_postMessage(
                channel=reply.channel,
                text=text,
                blocks=blocks,
                thread_ts=reply.thread or None,
                metadata=reply_metadata(reply.id, index),
            )
        except SlackApiError as error:
            raise _delivery_error(error) from error
        except (SlackClientError, OSError, TimeoutError) as error:
            raise DeliveryError(f"Slack could not be reached: {error!r}") from error
        return str(response["ts"])

    async def prune(self, now: datetime) -> int:
        """Drop ledger entries of replies created more than ``LEDGER_DAYS`` before ``now``."""
        return await self._ledgers.prune(now - timedelta(days=LEDGER_DAYS))

    async def _record(self, reply: Outbound, posted: Sequence[str]) -> None:
        await self._ledgers.put(
            DeliveryLedger(reply.id, PLATFORM, reply.channel, tuple(posted), reply.created_at)
        )

    async def _find_posted(
        self, client: AsyncWebClient, reply: Outbound, known: list[str]
    ) -> list[str]:
        """Parts of ``reply`` already in the channel: the recorded ones, then those found in
        history by the reply id in their metadata, in order, up to the first missing one."""
        oldest = f"{(reply.created_at - _HISTORY_MARGIN).timestamp():.6f}"
        try:
            if reply.thread:
                response = await client.conversations_replies(
                    channel=reply.channel,
                    ts=reply.thread,
                    oldest=oldest,
                    limit=_HISTORY_PAGE,
                    include_all_metadata=True,
                )
            else:
                response = await client.conversations_history(
                    channel=reply.channel,
                    oldest=oldest,
                    limit=_HISTORY_PAGE,
                    include_all_metadata=True,
                )
        except SlackApiError as error:
            raise _delivery_error(error) from error
        except (SlackClientError, OSError, TimeoutError) as error:
            raise DeliveryError(f"Slack could not be reached: {error!r}") from error
        found = _parts_in(response.get("messages") or [], reply.id)
        posted = list(known)
        while len(posted) in found:
            posted.append(found[len(posted)])
        if len(posted) > len(known):
            log.info("reply %s: %d part(s) already in Slack", reply.id, len(posted) - len(known))
            await self._record(reply, posted)
        return posted

    async def _set_status(self, inbound: Inbound, status: str) -> bool:
        where = (inbound.workspace, inbound.channel)
        if not inbound.thread or where in self._no_status:
            return False
        try:
            client = await self._clients.for_team(team_of(inbound.workspace))
            async with asyncio.timeout(STATUS_TIMEOUT_S):
                await client.assistant_threads_setStatus(
                    channel_id=inbound.channel, thread_ts=inbound.thread, status=status
                )
        except SlackApiError:
            self._no_status.add(where)
            return False
        except (DeliveryError, SlackClientError, OSError, TimeoutError) as error:
            log.debug("assistant status skipped: %r", error)
            return False
        return True


def _conversation(inbound: Inbound) -> tuple[str, str, str]:
    return (inbound.workspace, inbound.channel, inbound.thread)


def _parts_in(messages: Sequence[dict[str, Any]], reply_id: str) -> dict[int, str]:
    parts: dict[int, str] = {}
    for message in messages:
        metadata = message.get("metadata") or {}
        payload = metadata.get("event_payload") or {}
        if metadata.get("event_type") == METADATA_EVENT and payload.get("outbound_id") == reply_id:
            parts[int(payload.get("part", 0))] = str(message["ts"])
    return parts


def _delivery_error(error: SlackApiError) -> DeliveryError:
    code = str(error.response.get("error", "unknown_error"))
    retry_after: float | None = None
    if error.response.status_code == 429:
        retry_after = float(error.response.headers.get("Retry-After", "1"))
    return DeliveryError(
        f"Slack refused the message: {code}",
        permanent=code in _PERMANENT_ERRORS,
        retry_after=retry_after,
    )
