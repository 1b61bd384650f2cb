"""Replies shown while the model writes them.

While a turn runs on a platform that can stream (``StreamingPort``), each ``send_message``
call's ``message`` is read out of the call's arguments as they arrive and sent to the platform
message of the reply it will become (the reply's id is known before the call ends: replies are
numbered in order). One task per reply sends the text, joining what arrived while the last
call was on its way, so the model's stream is never held up by the platform's. Exactly-once is
the port's: the stream's message is the reply's recorded delivery, and delivering the reply
completes that message to the final text.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime

from engine.partial_json import StringFieldReader
from engine.ports import PlatformPort, ReplyStream, StreamingPort
from engine.progress import supersede_steps
from engine.records import Inbound, Outbound
from engine.store.queues import InboxItem
from engine.turns import Replies

log = logging.getLogger(__name__)

#: The tool whose ``message`` argument becomes a reply.
SEND_MESSAGE = "send_message"
MESSAGE_ARGUMENT = "message"
#: Seconds a turn that ends (or fails) gives a platform call on its way to land.
CLOSE_WAIT_S = 5.0

#: The reply streams of the turn running in this task (None outside a live turn).
REPLY_STREAMS: ContextVar[TurnStreams | None] = ContextVar("reply_streams", default=None)


@dataclass(eq=False)
class StreamedReply:
    """One reply's text on its way to the platform: queued as it arrives, sent by one task."""

    port: StreamingPort
    reply: Outbound
    answering: Inbound
    _pending: list[str] = field(init=False, default_factory=list)
    _wake: asyncio.Event = field(init=False, default_factory=asyncio.Event)
    _ended: bool = field(init=False, default=False)
    _broken: bool = field(init=False, default=False)
    _started_text: bool = field(init=False, default=False)
    _opened: ReplyStream | None = field(init=False, default=None)
    _task: asyncio.Task[None] | None = field(init=False, default=None)
    #: When text last left for the platform (``time.perf_counter``), for its rate limit.
    _last_sent: float = field(init=False, default=0.0)

    def start(self) -> None:
        self._task = asyncio.create_task(self._send(), name=f"stream:{self.reply.id}")

    def add(self, text: str) -> None:
        if not self._started_text:
            # send_message sends the message stripped: so is what is shown meanwhile.
            text = text.lstrip()
            if not text:
                return
            self._started_text = True
        self._pending.append(text)
        self._wake.set()

    def end(self) -> None:
        """The model wrote the whole message."""
        self._ended = True
        self._wake.set()

    def abandon(self) -> None:
        """The answer broke off: stop here; delivering the reply completes the message."""
        self._broken = True
        self._wake.set()

    async def wait_done(self, wait_s: float) -> None:
        """Wait for the stream to be sent and finished (or given up), at most ``wait_s``."""
        if self._task is None:
            return
        done, _ = await asyncio.wait({self._task}, timeout=wait_s)
        if not done:
            log.info("reply %s: the stream did not finish in %.1f s", self.reply.id, wait_s)
            await self.cancel()

    async def withdraw(self, wait_s: float) -> None:
        """The reply was not sent after all: take its message back (once a call on its way
        has landed, so nothing it posts is left behind)."""
        await self.wait_done(wait_s)
        if self._opened is not None:
            try:
                await self._opened.withdraw()
            except Exception:
                log.warning("reply %s: withdrawing its stream failed", self.reply.id, exc_info=True)

    async def close(self, wait_s: float) -> None:
        """Stop sending; a call on its way may land (and record what it posted) first."""
        self.abandon()
        await self.wait_done(wait_s)

    async def cancel(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _send(self) -> None:
        try:
            # The step on its way lands before the reply's text; one still waiting is not shown.
            await supersede_steps()
            self._opened = await self.port.open_stream(self.reply, self.answering)
            if self._opened is None:
                return
            while True:
                await self._wake.wait()
                self._wake.clear()
                if self._broken:
                    return
                if self._pending:
                    # Within the platform's rate limit; what arrives meanwhile goes along.
                    early = self._last_sent + self._opened.interval - time.perf_counter()
                    if early > 0:
                        await asyncio.sleep(early)
                        if self._broken:
                            return
                    text = "".join(self._pending)
                    self._pending.clear()
                    self._last_sent = time.perf_counter()
                    await self._opened.append(text)
                    self._wake.set()  # look again: more may have come meanwhile
                elif self._ended:
                    await self._opened.finish()
                    return
        except Exception as error:
            # The reply is recorded as streamed: its delivery writes the whole text instead.
            log.info(
                "reply %s: streaming stopped (%r); it is delivered whole", self.reply.id, error
            )


class TurnStreams:
    """The streams of one turn's replies, by reply id."""

    def __init__(self, port: StreamingPort, replies: Replies) -> None:
        self._port = port
        self._replies = replies
        self._streams: dict[str, StreamedReply] = {}

    @property
    def head(self) -> str:
        """The turn's first inbox item (its replies are numbered after it)."""
        return self._replies.head

    def listener(self, sent: int) -> StepStreams:
        """What hears one model step, when the turn has sent ``sent`` replies so far."""
        return StepStreams(self, sent)

    def open(self, index: int) -> StreamedReply | None:
        """The stream of reply ``index``; None when it was streamed already this turn (the
        message it wrote is completed when the reply is delivered)."""
        reply = self._replies.numbered(index, "")
        if reply.id in self._streams:
            return None
        stream = StreamedReply(self._port, reply, self._replies.answered)
        self._streams[reply.id] = stream
        stream.start()
        return stream

    async def settle(self, sent: Sequence[Outbound], wait_s: float) -> None:
        """The turn is over: let the streams of sent replies finish; take back the others."""
        kept = {reply.id for reply in sent}
        for stream in self._streams.values():
            if stream.reply.id in kept:
                await stream.wait_done(wait_s)
            else:
                await stream.withdraw(wait_s)

    async def aclose(self) -> None:
        for stream in self._streams.values():
            await stream.close(CLOSE_WAIT_S)


class StepStreams:
    """Hears one model step (``engine.chat_stream.StreamListener``): each ``send_message``
    call becomes the next reply's stream."""

    def __init__(self, turn: TurnStreams, sent: int) -> None:
        self._turn = turn
        self._first = sent
        self._next = sent
        self._calls: dict[int, tuple[StringFieldReader, StreamedReply]] = {}

    def call_started(self, position: int, name: str) -> None:
        if name != SEND_MESSAGE:
            return
        index, self._next = self._next, self._next + 1
        stream = self._turn.open(index)
        if stream is not None:
            self._calls[position] = (StringFieldReader(MESSAGE_ARGUMENT), stream)

    def arguments_arrived(self, position: int, fragment: str) -> None:
        call = self._calls.get(position)
        if call is None:
            return
        reader, stream = call
        text = reader.feed(fragment)
        if text:
            stream.add(text)
        if reader.done:
            stream.end()

    def finished(self) -> None:
        for _, stream in self._calls.values():
            stream.end()

    def abandoned(self) -> None:
        for _, stream in self._calls.values():
            stream.abandon()
        self._calls.clear()
        self._next = self._first


@contextlib.asynccontextmanager
async def streaming_replies(
    port: PlatformPort | None, items: Sequence[InboxItem], clock: Callable[[], datetime]
) -> AsyncIterator[TurnStreams | None]:
    """Stream the replies of the turn over ``items`` while it runs in this task, when its
    platform can; the streams are cancelled when the turn ends (settle them first)."""
    if not isinstance(port, StreamingPort) or not any(item.inbound.respond for item in items):
        yield None
        return
    streams = TurnStreams(port, Replies.for_items(items, clock))
    token = REPLY_STREAMS.set(streams)
    try:
        yield streams
    finally:
        REPLY_STREAMS.reset(token)
        await streams.aclose()


def step_listener(replies: Replies | None) -> StepStreams | None:
    """The listener of the next step of the turn answering with ``replies``, when that turn
    streams (a loop run for anything else inside it does not)."""
    streams = REPLY_STREAMS.get()
    if streams is None or replies is None or replies.head != streams.head:
        return None
    return streams.listener(len(replies))
