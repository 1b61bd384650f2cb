"""A conversation's batch with its journalled outcome, and the writes that close the batch."""

from __future__ import annotations

import asyncio

from engine.core import Engine
from engine.pipeline.settings import PipelineSettings
from engine.records import Agent
from engine.store.forget_marks import ForgetMark, MarkKind
from engine.store.lineage import Derivation, Derived
from engine.store.protocol import Store
from engine.store.queues import DeliveryClaim, InboxStatus, OutboxStatus, PendingBatch
from engine.store.state import JournalEntry, TurnOutcome
from tests.contract.records import (
    AGENT,
    OTHER_PUBLIC,
    PUBLIC,
    WS,
    axis,
    inbox_item,
    message,
    reply,
    visible_to,
)
from tests.e2e.pipeline_doubles import RecordingRunner


async def batch_of_two(store: Store) -> tuple[str, str]:
    first, second = inbox_item("E1", seq=10), inbox_item("E2", seq=20)
    for item in (second, first, inbox_item("E0", conversation="conv-other", seq=5)):
        assert await store.inbox.put(item)
    return first.id, second.id


def outcome(
    head: str, items: tuple[str, ...], text: str, outcome: TurnOutcome = TurnOutcome.DONE
) -> JournalEntry:
    said = message(text, seq=100)
    return JournalEntry(
        head=head,
        items=items,
        outcome=outcome,
        messages=(said,),
        replies=(reply(head, 0, text),),
        error="" if outcome is TurnOutcome.DONE else "the model failed",
        links=(Derivation(Derived.MESSAGE, said.id, (head,), WS),),
    )


async def test_pending_batch_comes_with_its_agent_and_its_first_items_journalled_outcome(
    store: Store,
) -> None:
    assert await store.turns.pending("conv-1", 10) == PendingBatch([])
    first, second = await batch_of_two(store)
    batch = await store.turns.pending("conv-1", 10)
    assert ([i.id for i in batch.items], batch.journalled, batch.agent) == (
        [first, second],
        None,
        None,
    )
    assert [i.id for i in (await store.turns.pending("conv-1", 1)).items] == [first]

    agent = Agent(id=AGENT, name="Ada", model="gpt-test", system_prompt="", tools=())
    await store.agents.put(agent)
    answered = outcome(first, (first, second), "the answer")
    await store.journal.record(answered)
    # An outcome kept under a later item is not the batch's.
    await store.journal.record(outcome(second, (second,), "not this one"))
    batch = await store.turns.pending("conv-1", 10)
    assert (batch.journalled, batch.agent) == (answered, await store.agents.get(AGENT))


async def test_applying_an_outcome_writes_it_closes_the_batch_and_drops_its_journal(
    store: Store,
) -> None:
    first, second = await batch_of_two(store)
    answered = outcome(first, (first, second), "the answer")
    assert (await store.turns.apply(answered)).entry == answered
    assert (await store.turns.apply(answered)).entry == answered  # again, as after a crash

    [said] = answered.messages
    assert [m.content for m in await store.messages.by_ids([said.id])] == ["the answer"]
    assert await store.lineage.sources_of(Derived.MESSAGE, [said.id]) == {said.id: [first]}
    [queued] = await store.outbox.for_inbox(first)
    assert (queued.reply.text, queued.status) == ("the answer", OutboxStatus.PENDING)
    for item_id in (first, second):
        item = await store.inbox.get(item_id)
        assert item is not None
        assert item.status is InboxStatus.DONE
    assert await store.journal.find(first) is None
    assert await store.turns.pending("conv-1", 10) == PendingBatch([])


async def test_an_outcome_journalled_before_wins_over_a_later_run(store: Store) -> None:
    first, second = await batch_of_two(store)
    earlier = outcome(first, (first,), "sorry", TurnOutcome.FAILED)
    await store.journal.record(earlier)
    assert (
        await store.turns.apply(outcome(first, (first, second), "a second answer"))
    ).entry == earlier

    [queued] = await store.outbox.for_inbox(first)
    assert queued.reply.text == "sorry"
    item = await store.inbox.get(first)
    assert item is not None
    assert (item.status, item.error) == (InboxStatus.FAILED, "the model failed")
    # Only the items of the outcome that counts are closed.
    assert [i.id for i in (await store.turns.pending("conv-1", 10)).items] == [second]


async def test_a_journalled_outcome_is_applied_as_read(store: Store) -> None:
    first, second = await batch_of_two(store)
    journalled = outcome(first, (first, second), "the journalled answer")
    await store.journal.record(journalled)
    assert (await store.turns.apply(journalled, journalled=True)).entry == journalled
    assert await store.journal.find(first) is None
    assert [r.reply.text for r in await store.outbox.for_inbox(first)] == ["the journalled answer"]


async def test_an_outcome_is_written_with_its_messages_embeddings(store: Store) -> None:
    first, second = await batch_of_two(store)
    answered = outcome(first, (first, second), "the answer")
    [said] = answered.messages
    await store.turns.apply(answered, embeddings=[(said.id, axis(2))])
    [found] = await store.messages.search_vector(visible_to(PUBLIC), axis(2), 5)
    assert found.record.id == said.id


async def test_embeddings_of_an_outcome_that_lost_to_an_earlier_one_are_not_written(
    store: Store,
) -> None:
    first, second = await batch_of_two(store)
    earlier = outcome(first, (first,), "sorry", TurnOutcome.FAILED)
    await store.journal.record(earlier)
    later = outcome(first, (first, second), "a second answer")
    await store.turns.apply(later, embeddings=[(earlier.messages[0].id, axis(3))])
    assert await store.messages.search_vector(visible_to(PUBLIC), axis(3), 5) == []


async def test_a_fresh_outcomes_replies_are_written_claimed_by_their_deliverer(
    store: Store,
) -> None:
    first, second = await batch_of_two(store)
    answered = outcome(first, (first, second), "the answer")
    await store.turns.apply(answered, claim=DeliveryClaim("worker-a", 30))
    [queued] = answered.replies
    assert await store.outbox.claim(queued.id, "worker-b", 30) is None
    assert await store.outbox.claim(queued.id, "worker-a", 30) is not None


async def test_replies_of_an_earlier_outcome_are_left_unclaimed(store: Store) -> None:
    first, second = await batch_of_two(store)
    earlier = outcome(first, (first,), "sorry", TurnOutcome.FAILED)
    await store.journal.record(earlier)
    later = outcome(first, (first, second), "a second answer")
    assert (await store.turns.apply(later, claim=DeliveryClaim("worker-a", 30))).entry == earlier
    assert await store.outbox.claim(earlier.replies[0].id, "worker-b", 30) is not None

    journalled = outcome(second, (second,), "journalled")
    await store.journal.record(journalled)
    await store.turns.apply(journalled, journalled=True, claim=DeliveryClaim("worker-a", 30))
    assert await store.outbox.claim(journalled.replies[0].id, "worker-b", 30) is not None


async def test_applying_records_the_attempt_that_produced_the_outcome_on_the_first_item(
    store: Store,
) -> None:
    first, second = await batch_of_two(store)
    await store.inbox.record_failure(first, "the model exploded")
    await store.turns.apply(outcome(first, (first, second), "the answer"), attempt=2)
    attempts = [(await store.inbox.get(i)) for i in (first, second)]
    assert [(i.attempts if i else None) for i in attempts] == [2, 0]


async def test_a_forget_that_marked_a_running_turns_items_is_returned_with_its_outcome(
    store: Store,
) -> None:
    first, second = await batch_of_two(store)
    settled = inbox_item("E9", seq=1)
    assert await store.inbox.put(settled)
    await store.inbox.mark(settled.id, InboxStatus.DONE)
    elsewhere = inbox_item("E8", seq=2, audience=OTHER_PUBLIC, conversation="conv-2")
    assert await store.inbox.put(elsewhere)

    # Only the pending items of the forget's workspace are marked.
    assert await store.inbox.mark_forgotten(WS, "forget alice") == 3  # with conv-other's
    assert await store.inbox.mark_forgotten(WS, "forget alice") == 0  # once each
    assert await store.inbox.marked(10) == []  # their turn has not been written yet

    written = await store.turns.apply(outcome(first, (first, second), "the answer"))
    assert written.forgotten == ("forget alice",)
    # Kept until the forget is redone, so a crash before that redoes it at the next start.
    assert [m.marks for m in await store.inbox.marked(10) if m.item_id == first] == [
        ("forget alice",)
    ]
    await store.inbox.clear_marks([first, second])
    assert await store.inbox.marked(10) == []
    assert (await store.turns.apply(outcome(first, (first, second), "the answer"))).forgotten == ()


async def test_a_turn_written_before_the_forget_carries_no_mark(store: Store) -> None:
    first, second = await batch_of_two(store)
    written = await store.turns.apply(outcome(first, (first, second), "the answer"))
    assert written.forgotten == ()
    assert await store.inbox.mark_forgotten(WS, "forget alice") == 1  # conv-other's item
    assert await store.inbox.marked(10) == []


async def test_a_forget_left_undone_by_a_stopped_process_is_redone_at_the_next_start(
    store: Store,
) -> None:
    """The process wrote the turn that a forget landed in, then stopped before redoing it."""
    first, second = await batch_of_two(store)
    await store.inbox.mark_forgotten(WS, ForgetMark(MarkKind.USER, WS, "alice").encode())
    said = message("alice's words, stored by the turn")
    await store.turns.apply(outcome(first, (first, second), "the answer"))
    await store.messages.append([said])

    engine = Engine(store, RecordingRunner())
    await engine.start()
    try:
        for _ in range(400):  # the store says when it is done
            if not await store.inbox.marked(10):
                break
            await asyncio.sleep(0.05)
    finally:
        await engine.stop()
    assert await store.inbox.marked(10) == []
    assert await store.messages.ids_of_user(WS, "alice") == []


async def left_undone_after_its_turn(store: Store, event_id: str, user: str) -> None:
    """A turn was written with a forget of ``user`` marked on its item, and not redone (the
    redo failed, or the process that wrote the turn stopped first)."""
    item = inbox_item(event_id, conversation=f"conv-{event_id}")
    assert await store.inbox.put(item)
    await store.inbox.mark_forgotten(WS, ForgetMark(MarkKind.USER, WS, user).encode())
    await store.turns.apply(outcome(item.id, (item.id,), "the answer"))
    await store.messages.append([message(f"{user}'s words, stored by the turn", author=user)])


async def redone(store: Store, user: str) -> bool:
    for _ in range(400):  # the store says when it is done
        if not await store.inbox.marked(10):
            return await store.messages.ids_of_user(WS, user) == []
        await asyncio.sleep(0.05)
    return False


async def test_a_forget_left_undone_while_the_engine_runs_is_redone_without_a_restart(
    store: Store,
) -> None:
    # No inbox poll: the items written here are never taken into a turn of the engine's.
    settings = PipelineSettings(poll_interval=3600, forget_sweep_interval=0.05)
    engine = Engine(store, RecordingRunner(), settings=settings)
    await engine.start()
    try:
        await left_undone_after_its_turn(store, "E1", "alice")
        assert await redone(store, "alice")
        # Left undone after the sweep at start: the next sweep finds it.
        await left_undone_after_its_turn(store, "E2", "bob")
        assert await redone(store, "bob")
    finally:
        await engine.stop()


async def test_a_forget_that_fails_again_holds_up_none_of_the_others_left_undone(
    store: Store,
) -> None:
    broken = inbox_item("E1", conversation="conv-E1")
    assert await store.inbox.put(broken)
    await store.inbox.mark_forgotten(WS, "not a mark this version can read")
    await store.turns.apply(outcome(broken.id, (broken.id,), "the answer"))
    await left_undone_after_its_turn(store, "E2", "bob")

    engine = Engine(store, RecordingRunner())
    await engine.start()
    try:
        for _ in range(400):  # the store says when it is done
            if len(await store.inbox.marked(10)) == 1:
                break
            await asyncio.sleep(0.05)
    finally:
        await engine.stop()
    assert await store.messages.ids_of_user(WS, "bob") == []
    assert [item.item_id for item in await store.inbox.marked(10)] == [broken.id]
