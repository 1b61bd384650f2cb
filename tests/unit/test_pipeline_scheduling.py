"""Backoff, the turn journal's encoding, the dispatcher's limits and wake-ups, settling."""

from __future__ import annotations

import asyncio
import random

from engine.audience import Scope
from engine.pipeline import Backoff, Dispatcher, JournalEntry, SettleWatch, TurnOutcome
from engine.records import Message, Outbound, Role, utcnow
from engine.store.codec import decode, encode


def test_backoff_doubles_up_to_its_ceiling() -> None:
    backoff = Backoff(base=0.5, ceiling=3.0)
    assert [backoff.delay(n) for n in range(6)] == [0.0, 0.5, 1.0, 2.0, 3.0, 3.0]
    assert backoff.delay(10_000) == 3.0


def test_jittered_backoff_waits_between_half_and_all_of_the_plain_wait() -> None:
    backoff = Backoff(base=0.5, ceiling=3.0)
    jitter = random.Random(7)
    waits = [backoff.delay(3, jitter) for _ in range(200)]
    assert all(1.0 <= wait <= 2.0 for wait in waits)
    assert len(set(waits)) > 100  # clients that failed together spread out
    assert backoff.delay(0, jitter) == 0.0


def _reply(n: int) -> Outbound:
    return Outbound(
        id=f"h.r{n}",
        inbox_id="h",
        platform="test",
        agent_id="a",
        workspace="w",
        channel="c",
        thread="t",
        text=f"reply {n}",
        reply_to="m1",
        index=n,
    )


def test_journal_entry_survives_its_document_form() -> None:
    message = Message(
        id="h.001",
        agent_id="a",
        workspace="w",
        channel="c",
        thread="t",
        scope=Scope.workspace(),
        role=Role.ASSISTANT,
        author="a",
        author_name="mnemo",
        content="hi",
        seq=42,
        created_at=utcnow(),
    )
    entry = JournalEntry("h", ("h", "i2"), TurnOutcome.DONE, (message,), (_reply(0), _reply(1)))
    assert decode(JournalEntry, encode(entry)) == entry


class ListedInbox:
    """Only what the dispatcher reads: which conversations have pending items."""

    def __init__(self, conversations: list[str]) -> None:
        self.conversations = conversations

    async def pending_conversations(self, limit: int) -> list[str]:
        return self.conversations[:limit]


async def test_dispatcher_runs_at_most_the_limit_and_each_conversation_once() -> None:
    running: list[str] = []
    peak = 0
    served: list[str] = []
    gate = asyncio.Event()

    async def serve(conversation: str) -> bool:
        nonlocal peak
        running.append(conversation)
        peak = max(peak, len(running))
        await gate.wait()
        served.append(conversation)
        running.remove(conversation)
        return False

    inbox = ListedInbox(["c1", "c2", "c3", "c4"])
    dispatcher = Dispatcher(inbox, serve, worker_limit=2, poll_interval=0.02)  # type: ignore[arg-type]
    task = asyncio.create_task(dispatcher.run())
    try:
        await asyncio.sleep(0.1)
        assert sorted(running) == ["c1", "c2"]
        inbox.conversations = []
        gate.set()
        async with asyncio.timeout(5):
            while len(served) < 4:  # noqa: ASYNC110 - the dispatcher offers no event
                await asyncio.sleep(0.01)
        assert peak == 2
        assert sorted(served) == ["c1", "c2", "c3", "c4"]
    finally:
        task.cancel()


async def test_notify_during_a_run_serves_the_conversation_again() -> None:
    calls: list[str] = []
    first_running = asyncio.Event()
    release = asyncio.Event()

    async def serve(conversation: str) -> bool:
        calls.append(conversation)
        if len(calls) == 1:
            first_running.set()
            await release.wait()
        return False

    dispatcher = Dispatcher(ListedInbox([]), serve, worker_limit=4, poll_interval=60)  # type: ignore[arg-type]
    task = asyncio.create_task(dispatcher.run())
    try:
        dispatcher.notify("c1")
        await asyncio.wait_for(first_running.wait(), 5)
        dispatcher.notify("c1")
        await asyncio.sleep(0.05)
        assert calls == ["c1"]
        release.set()
        async with asyncio.timeout(5):
            while len(calls) < 2:  # noqa: ASYNC110 - the dispatcher offers no event
                await asyncio.sleep(0.01)
        assert calls == ["c1", "c1"]
    finally:
        task.cancel()


async def test_folded_items_settle_when_their_turns_replies_are_delivered() -> None:
    watch = SettleWatch()
    first, second = watch.waiter("h"), watch.waiter("i2")
    entry = JournalEntry("h", ("h", "i2"), TurnOutcome.DONE, (), (_reply(0), _reply(1)))
    watch.applied(entry, delivered=False)
    assert watch.head_of("i2") == "h"
    watch.reply_settled(_reply(0))
    assert not first.done()
    watch.reply_settled(_reply(1))
    assert first.done()
    assert second.done()
    assert watch.head_of("i2") == "i2"


async def test_item_without_replies_settles_when_applied() -> None:
    watch = SettleWatch()
    waiter = watch.waiter("h")
    watch.applied(JournalEntry("h", ("h",), TurnOutcome.DONE, (), ()), delivered=False)
    assert waiter.done()


async def test_worker_that_yields_for_fairness_is_served_again_after_the_others() -> None:
    order: list[str] = []

    async def serve(conversation: str) -> bool:
        order.append(conversation)
        return conversation == "busy" and order.count("busy") == 1

    dispatcher = Dispatcher(ListedInbox([]), serve, worker_limit=1, poll_interval=60)  # type: ignore[arg-type]
    task = asyncio.create_task(dispatcher.run())
    try:
        dispatcher.notify("busy")
        dispatcher.notify("quiet")
        async with asyncio.timeout(5):
            while len(order) < 3:  # noqa: ASYNC110 - the dispatcher offers no event
                await asyncio.sleep(0.01)
        assert order == ["busy", "quiet", "busy"]
    finally:
        task.cancel()
