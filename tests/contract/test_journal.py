"""The turn journal: one outcome per batch, the first writer's, whoever asks."""

from __future__ import annotations

import asyncio

from engine.store.protocol import Store
from engine.store.state import JournalEntry, TurnOutcome
from tests.contract.conftest import OpenReplica
from tests.contract.records import message, reply


def entry(head: str, text: str, outcome: TurnOutcome = TurnOutcome.DONE) -> JournalEntry:
    return JournalEntry(
        head=head,
        items=(head, f"{head}-2"),
        outcome=outcome,
        messages=(message(text, seq=1),),
        replies=(reply(head, 0, text),),
        error="" if outcome is TurnOutcome.DONE else "the model failed",
    )


async def test_an_entry_round_trips_and_is_forgotten(store: Store) -> None:
    assert await store.journal.find("in-1") is None
    done, failed = entry("in-1", "hello"), entry("in-2", "sorry", TurnOutcome.FAILED)
    assert await store.journal.record(done) == done
    assert await store.journal.record(failed) == failed
    assert await store.journal.find("in-1") == done
    assert await store.journal.find("in-2") == failed

    await store.journal.forget(["in-1", "absent"])
    assert await store.journal.find("in-1") is None
    assert await store.journal.find("in-2") == failed
    await store.journal.forget([])


async def test_a_second_entry_for_a_batch_gets_the_first(store: Store) -> None:
    first = entry("in-1", "the first answer")
    await store.journal.record(first)
    assert await store.journal.record(entry("in-1", "a different answer")) == first
    assert await store.journal.find("in-1") == first


async def test_racing_writers_all_get_one_winner(store: Store, open_replica: OpenReplica) -> None:
    other = await open_replica()
    answers = [entry("in-1", f"answer {i}") for i in range(6)]
    stores = [store, other] * 3
    results = await asyncio.gather(
        *(s.journal.record(a) for s, a in zip(stores, answers, strict=True))
    )
    assert results[0] in answers
    assert all(r == results[0] for r in results)
    assert await other.journal.find("in-1") == results[0]
