"""Summaries: one per conversation, replaced only by the writer holding the current version."""

from __future__ import annotations

from engine.records import Summary
from engine.store.protocol import Store
from tests.contract.records import AGENT, BASE_TIME, PUBLIC, message

CONVERSATION = message("", PUBLIC).conversation


def _summary(text: str, through_seq: int) -> Summary:
    return Summary(
        AGENT,
        PUBLIC.workspace,
        PUBLIC.channel,
        "",
        PUBLIC.write_scope,
        text,
        through_seq,
        1,
        BASE_TIME,
    )


async def test_summary_is_created_once_then_replaced_by_compare_and_set(store: Store) -> None:
    assert await store.summaries.get(CONVERSATION) is None
    assert await store.summaries.put(_summary("first", 10), 0)
    assert not await store.summaries.put(_summary("racing creator", 11), 0)

    stored = await store.summaries.get(CONVERSATION)
    assert stored is not None
    assert (stored.text, stored.through_seq, stored.version) == ("first", 10, 1)

    assert await store.summaries.put(_summary("second", 20), stored.version)
    assert not await store.summaries.put(_summary("stale", 30), stored.version)
    latest = await store.summaries.get(CONVERSATION)
    assert latest is not None
    assert (latest.text, latest.through_seq, latest.version) == ("second", 20, 2)
    assert latest.scope == PUBLIC.write_scope
