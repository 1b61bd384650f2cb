"""Replies streamed into Slack as the model writes them (chat.startStream / appendStream /
stopStream, through slack_sdk's ``AsyncChatStream``).

Before a stream is started, the delivery ledgers record under the reply's draft key that it
may exist; its ts is added the moment Slack names it. Delivering the reply then takes that
message as its first part: when this process streamed the whole reply and stopped the stream,
nothing is left to do; otherwise (a crash mid-stream, a stream method that failed, text past
Slack's limit) the stream is stopped and the message updated to the reply's text. A process
that died after Slack started the stream and before its ts was recorded left a draft without
a ts: delivery finds that message in the thread (the bot's own message after the one it
answers, the only kind Mnemo leaves without message metadata) and completes it the same way.
Where Slack refuses streaming (a workspace without it, an older API) the reply is posted
whole and the workspace is not asked again.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_chat_stream import AsyncChatStream
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.clients import WorkspaceClients
from adapters.slack.config import PLATFORM
from adapters.slack.events import team_of
from adapters.slack.feedback import feedback_block, with_feedback
from engine import DeliveryLedger, DeliveryLedgerStore, Inbound, Outbound, ReplyStream

log = logging.getLogger(__name__)

METADATA_EVENT = "mnemo_reply"
NOTICE_EVENT = "mnemo_notice"
#: What Slack answers where streaming is not available; the workspace is not asked again.
STREAMING_UNAVAILABLE = frozenset(
    {"unknown_method", "not_allowed", "not_allowed_token_type", "feature_not_enabled"}
)


#: Messages of a thread read when looking for a stream whose ts was not recorded.
_THREAD_PAGE = 200


def reply_metadata(reply_id: str, part: int) -> dict[str, Any]:
    """Message metadata naming the reply (and part) a message is, so a retry finds it."""
    return {"event_type": METADATA_EVENT, "event_payload": {"outbound_id": reply_id, "part": part}}


def notice_metadata(kind: str) -> dict[str, Any]:
    """Message metadata of a message Mnemo posts that is not a reply (a greeting, an
    approval prompt, a notice): a stream is the only message it leaves without metadata."""
    return {"event_type": NOTICE_EVENT, "event_payload": {"kind": kind}}


def draft_key(reply_id: str) -> str:
    """The ledger entry of the message a reply was streamed into."""
    return f"{reply_id}/stream"


class SlackReplyStream:
    """``engine.ReplyStream`` over one ``AsyncChatStream``."""

    #: Slack's stream methods take text as it comes.
    interval = 0.0

    def __init__(
        self,
        streaming: SlackStreaming,
        reply: Outbound,
        stream: AsyncChatStream,
        limit: int,
    ) -> None:
        self._streaming = streaming
        self._reply = reply
        self._stream = stream
        self._room = limit
        self._shown: list[str] = []
        #: Whether chat.startStream was asked (its message may exist without a known ts).
        self._tried = False

    async def append(self, text: str) -> None:
        text = text[: self._room]  # past Slack's limit, delivery posts the rest as parts
        if not text:
            return
        starting = self._stream.ts is None
        if starting:
            # Recorded before Slack is asked: a process that dies before Slack's answer
            # leaves a draft that delivery looks for in the thread.
            await self._streaming.record_draft(self._reply, None)
            self._tried = True
        try:
            await self._stream.append(markdown_text=text)
        except SlackApiError as error:
            self._streaming.refused(self._reply, error)
            raise
        self._room -= len(text)
        self._shown.append(text)
        if starting and self._stream.ts is not None:
            await self._streaming.record_draft(self._reply, self._stream.ts)

    async def finish(self) -> None:
        if self._stream.ts is None:
            return  # nothing was shown; the reply is posted whole
        # Feedback buttons close a reply streamed whole; one cut at Slack's limit gets them
        # on its last part, posted by delivery.
        whole = self._streaming.feedback and self._room > 0
        blocks = [feedback_block(self._reply)] if whole else None
        await self._stream.stop(metadata=reply_metadata(self._reply.id, 0), blocks=blocks)
        self._streaming.finished(self._reply, "".join(self._shown))

    async def withdraw(self) -> None:
        if not self._tried:
            return
        client = await self._streaming.client_for(self._reply)
        ts = self._stream.ts or await self._streaming.find_stream(client, self._reply)
        if ts is None:
            return
        await client.chat_delete(channel=self._reply.channel, ts=ts)
        await self._streaming.record_draft(self._reply, None)


class SlackStreaming:
    """Opens reply streams in Slack threads and completes their messages on delivery."""

    def __init__(
        self,
        clients: WorkspaceClients,
        ledgers: DeliveryLedgerStore,
        limit: int,
        *,
        feedback: bool = False,
    ) -> None:
        self._clients = clients
        self._ledgers = ledgers
        self._limit = limit
        #: Whether a streamed reply ends with the feedback buttons.
        self.feedback = feedback
        #: Workspaces where Slack refused streaming: their replies are posted whole.
        self._unavailable: set[str] = set()
        #: Replies this process streamed whole and stopped: reply id -> the text shown.
        self._finished: dict[str, str] = {}

    async def client_for(self, reply: Outbound) -> AsyncWebClient:
        return await self._clients.for_team(team_of(reply.workspace))

    async def open_stream(self, reply: Outbound, answering: Inbound) -> ReplyStream | None:
        # Slack streams only into threads; a top-level DM reply is posted whole.
        if not reply.thread or reply.workspace in self._unavailable:
            return None
        if await self._ledgers.get(reply.id) or await self._ledgers.get(draft_key(reply.id)):
            return None  # a run before a crash posted it: delivery completes that message
        client = await self.client_for(reply)
        stream = await client.chat_stream(
            buffer_size=1,
            channel=reply.channel,
            thread_ts=reply.thread,
            recipient_team_id=team_of(reply.workspace),
            recipient_user_id=answering.author.id or None,
        )
        return SlackReplyStream(self, reply, stream, self._limit)

    def refused(self, reply: Outbound, error: SlackApiError) -> None:
        code = str(error.response.get("error", ""))
        if code in STREAMING_UNAVAILABLE:
            log.info(
                "Slack refused streaming in %s (%s): replies there are posted whole",
                reply.workspace,
                code,
            )
            self._unavailable.add(reply.workspace)

    def finished(self, reply: Outbound, shown: str) -> None:
        self._finished[reply.id] = shown

    async def record_draft(self, reply: Outbound, ts: str | None) -> None:
        """Record the message ``reply`` is streamed into; ``ts`` None: a stream may have been
        started (or one was taken back), and delivery looks for it in the thread."""
        posted = (ts,) if ts is not None else ()
        await self._ledgers.put(
            DeliveryLedger(draft_key(reply.id), PLATFORM, reply.channel, posted, reply.created_at)
        )

    async def complete_draft(
        self, client: AsyncWebClient, reply: Outbound, first_part: str, whole: bool
    ) -> str | None:
        """The ts of the message ``reply`` was streamed into, now showing ``first_part`` (the
        reply's first part, formatted; ``whole`` when it is the only one); None when the reply
        was not streamed."""
        draft = await self._ledgers.get(draft_key(reply.id))
        if draft is None:
            return None
        ts = draft.posted[0] if draft.posted else await self.find_stream(client, reply)
        if ts is None:
            return None
        shown = self._finished.pop(reply.id, None)
        if whole and shown is not None and shown.strip() == reply.text.strip():
            return ts
        try:
            await client.chat_stopStream(channel=reply.channel, ts=ts)
        except SlackApiError as error:
            log.debug("reply %s: stopping its stream: %s", reply.id, error.response.get("error"))
        await client.chat_update(
            channel=reply.channel,
            ts=ts,
            text=first_part,
            metadata=reply_metadata(reply.id, 0),
            blocks=with_feedback(reply, first_part) if whole and self.feedback else None,
        )
        return ts

    async def find_stream(self, client: AsyncWebClient, reply: Outbound) -> str | None:
        """The ts of a stream started for ``reply`` whose ts was never recorded: the bot's
        own message in the thread, after the message the reply answers, that carries no
        message metadata (every other message Mnemo posts does; a stream gets its metadata
        when it stops). Recorded, so the thread is read once."""
        after = max(_ts_value(reply.reply_to), _ts_value(reply.thread))
        me = await client.auth_test()
        response = await client.conversations_replies(
            channel=reply.channel,
            ts=reply.thread,
            oldest=f"{after:.6f}",
            limit=_THREAD_PAGE,
            include_all_metadata=True,
        )
        found = next(
            (
                str(message["ts"])
                for message in response.get("messages") or []
                if _ts_value(str(message.get("ts", ""))) > after
                and message.get("bot_id") == me.get("bot_id")
                and not message.get("metadata")
            ),
            None,
        )
        if found is not None:
            log.info("reply %s: found the stream a stopped process started", reply.id)
            await self.record_draft(reply, found)
        return found


def _ts_value(ts: str) -> float:
    """A Slack ts as a number, to order messages; 0 for what is not one."""
    try:
        return float(ts)
    except ValueError:
        return 0.0
