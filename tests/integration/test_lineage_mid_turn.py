"""A passage the agent keeps, or mail it sends, in the middle of a turn is stored with its
lineage, so a run that stops before its outcome is applied (a crash, a failed attempt) leaves
nothing that a forget cannot find, on both stores."""

from __future__ import annotations

import asyncio
from pathlib import Path

from engine.store.lineage import Derived
from engine.store.queues import InboxStatus
from tests.fakes.openai_server import FakeOpenAI, Step, delay, tool_call
from tests.integration.test_forget_during_turn import SECRET, sent
from tests.integration.test_lineage_turns import backend, llm, running, store_of
from tests.integration.test_multi_agent_tools import (
    AGENTS_FILE,
    JSON,
    agent_of,
    scripted,
    tool_results,
    worker,
)

__all__ = ["backend", "llm"]

#: Seconds the model takes over its next step once the passage is kept: the test looks at the
#: store then, while the turn's outcome is not yet applied.
THINKING_S = 5.0


async def test_a_passage_kept_mid_turn_is_linked_to_the_message_before_the_turn_ends(
    backend: str, tmp_path: Path, llm: FakeOpenAI
) -> None:
    async with running(backend, tmp_path, llm) as bot:
        llm.push(
            tool_call("archival_memory_insert", content=f"Alice said {SECRET}."),
            delay(THINKING_S, tool_call("send_message", message="noted!")),
        )
        inbox_id = await sent(bot, f"The code is {SECRET}.", "M-1")
        async with asyncio.timeout(20):
            await llm.wait_for_requests(2)  # the passage is kept; the next step is slow
        store = store_of(bot)
        item = await store.inbox.get(inbox_id)
        assert item is not None
        assert item.status is InboxStatus.PENDING
        kept = await store.lineage.derived_from([inbox_id])
        passages = [r.record_id for r in kept if r.kind is Derived.PASSAGE]
        assert len(passages) == 1
        passage = await store.passages.get(passages[0])
        assert passage is not None
        assert SECRET in passage.text

        async with asyncio.timeout(30):
            await bot.runtime.engine.wait_settled(inbox_id)


async def test_mail_sent_mid_turn_is_linked_to_the_message_before_the_turn_ends(
    backend: str, tmp_path: Path, llm: FakeOpenAI
) -> None:
    def supervisor(body: JSON) -> Step:
        if not tool_results(body):
            return tool_call("send_message_to_agent_async", agent_name="worker-2", message=SECRET)
        return delay(THINKING_S, tool_call("send_message", message="asked"))

    def supervisor_waits() -> bool:
        return any(
            agent_of(body) == "supervisor" and tool_results(body) for body in llm.chat_requests
        )

    llm.responder = scripted({"supervisor": supervisor, "worker-2": worker})
    async with running(backend, tmp_path, llm, (AGENTS_FILE, "supervisor")) as bot:
        inbox_id = await sent(bot, f"Ask worker-2 about {SECRET}.", "M-1")
        async with asyncio.timeout(20):
            while not supervisor_waits():  # noqa: ASYNC110 - the fake offers no event for it
                await asyncio.sleep(0.05)
        store = store_of(bot)
        item = await store.inbox.get(inbox_id)
        assert item is not None
        assert item.status is InboxStatus.PENDING  # the turn still runs
        kept = await store.lineage.derived_from([inbox_id])
        assert {r.kind for r in kept} >= {Derived.MAIL, Derived.MESSAGE}

        async with asyncio.timeout(30):
            await bot.runtime.engine.wait_settled(inbox_id)
