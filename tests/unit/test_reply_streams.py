"""A turn's replies streamed to a platform port as the model writes each send_message call:
the message text in order and whole, joined within the port's interval, finished once, and
taken back when the reply is not sent after all."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field

from engine.audience import Audience, AudienceKind
from engine.records import Author, Inbound, Outbound, utcnow
from engine.store.queues import InboxItem
from engine.streaming import StepStreams, TurnStreams, streaming_replies
from engine.turns import Replies

MESSAGE = "Hello Ann, here is the answer you asked for."


@dataclass
class RecordedStream:
    interval: float = 0.0
    appended: list[tuple[float, str]] = field(default_factory=list)
    finished: int = 0
    withdrawn: int = 0

    async def append(self, text: str) -> None:
        self.appended.append((time.perf_counter(), text))

    async def finish(self) -> None:
        self.finished += 1

    async def withdraw(self) -> None:
        self.withdrawn += 1

    @property
    def text(self) -> str:
        return "".join(text for _, text in self.appended)


@dataclass
class StreamingPlatform:
    """A platform port that streams every reply into a ``RecordedStream``."""

    interval: float = 0.0
    opened: dict[str, RecordedStream] = field(default_factory=dict)
    platform: str = "test"

    async def deliver(self, reply: Outbound) -> str:
        raise AssertionError("not delivered in these tests")

    def working(self, inbound: Inbound) -> AbstractAsyncContextManager[None]:
        return contextlib.nullcontext()

    async def open_stream(self, reply: Outbound, answering: Inbound) -> RecordedStream:
        stream = self.opened[reply.id] = RecordedStream(self.interval)
        return stream


def item() -> InboxItem:
    return InboxItem.pending(
        Inbound(
            platform="test",
            agent_id="a1",
            audience=Audience("test:W1", AudienceKind.PUBLIC, "C1"),
            thread="",
            author=Author("U1", "Ann"),
            text="hi",
            event_id="E1",
            message_ref="E1",
            sent_at=utcnow(),
        )
    )


def feed(step: StepStreams, position: int, message: str, piece: int = 5) -> None:
    arguments = json.dumps({"message": message})
    step.call_started(position, "send_message")
    for start in range(0, len(arguments), piece):
        step.arguments_arrived(position, arguments[start : start + piece])


@asynccontextmanager
async def streaming_turn(
    platform: StreamingPlatform,
) -> AsyncIterator[tuple[TurnStreams, InboxItem]]:
    """The streams of a turn answering one message, and that message."""
    head = item()
    async with streaming_replies(platform, [head], utcnow) as streams:
        assert streams is not None
        yield streams, head


def sent(head: InboxItem) -> Outbound:
    """The turn's first reply, as send_message adds it."""
    return Replies.for_items([head], utcnow).add(MESSAGE)


async def test_each_send_message_streams_its_whole_text_and_finishes_once() -> None:
    platform = StreamingPlatform()
    async with streaming_turn(platform) as (streams, head):
        step = streams.listener(0)
        step.call_started(0, "archival_memory_search")
        step.arguments_arrived(0, '{"query": "not a reply"}')
        feed(step, 1, f"  {MESSAGE}")
        step.finished()
        await streams.settle([sent(head)], wait_s=10)
    [stream] = platform.opened.values()
    assert stream.text == MESSAGE  # what send_message sends: stripped
    assert stream.finished == 1
    assert stream.withdrawn == 0


async def test_text_arriving_within_the_interval_goes_in_one_append() -> None:
    platform = StreamingPlatform(interval=0.2)
    async with streaming_turn(platform) as (streams, head):
        step = streams.listener(0)
        step.call_started(0, "send_message")
        arguments = json.dumps({"message": MESSAGE})
        for start in range(0, len(arguments), 3):
            step.arguments_arrived(0, arguments[start : start + 3])
            await asyncio.sleep(0.02)
        step.finished()
        await streams.settle([sent(head)], wait_s=10)
    [stream] = platform.opened.values()
    assert stream.text == MESSAGE
    assert 2 <= len(stream.appended) < len(arguments) // 3
    gaps = [
        later - earlier for earlier, later in itertools.pairwise(at for at, _ in stream.appended)
    ]
    assert all(gap >= 0.19 for gap in gaps), gaps


async def test_a_reply_that_was_not_sent_is_taken_back() -> None:
    platform = StreamingPlatform()
    async with streaming_turn(platform) as (streams, head):
        step = streams.listener(0)
        feed(step, 0, MESSAGE)
        step.finished()
        await streams.settle([], wait_s=10)
    assert platform.opened[f"{head.id}.r0"].withdrawn == 1


async def test_an_answer_that_broke_off_stops_streaming_and_its_retry_is_not_streamed() -> None:
    platform = StreamingPlatform()
    async with streaming_turn(platform) as (streams, _):
        step = streams.listener(0)
        step.call_started(0, "send_message")
        step.arguments_arrived(0, '{"message": "Hel')
        step.abandoned()
        # The step is asked again: the same reply's message is completed on delivery instead.
        feed(step, 0, MESSAGE)
        step.finished()
        await asyncio.sleep(0.1)
    [stream] = platform.opened.values()
    assert MESSAGE.startswith(stream.text)
    assert stream.finished == 0


async def test_a_turn_without_a_streaming_platform_streams_nothing() -> None:
    async with streaming_replies(None, [item()], utcnow) as streams:
        assert streams is None
