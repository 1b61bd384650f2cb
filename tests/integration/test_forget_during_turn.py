"""A forget that lands while a turn's model call is in flight wins over the turn: what the
turn writes when it settles (the forgotten message itself, block lines, passages, its own
messages quoting it) is removed as the forget would have removed it, on both stores."""

from __future__ import annotations

import asyncio
from pathlib import Path

from engine.ports import ReceiveOutcome
from engine.records import Author, Inbound, InboundKind, new_id, utcnow
from tests.fakes.openai_server import FakeOpenAI, tool_call
from tests.harness import Bot, public
from tests.integration.test_forget_complete import dump
from tests.integration.test_lineage_turns import WS, backend, llm, running, said_by, store_of

__all__ = ["backend", "llm"]

SECRET = "wuzzlefrump"


async def sent(bot: Bot, text: str, ref: str, kind: InboundKind = InboundKind.MESSAGE) -> str:
    """Hand Alice's ``text`` in #general (or its deletion) to the engine without waiting
    for a turn."""
    result = await bot.runtime.engine.receive(
        Inbound(
            platform="test",
            agent_id=bot.runtime.default_agent.id,
            audience=public("general"),
            thread="",
            author=Author("alice", "Alice"),
            text=text,
            event_id=new_id(),
            message_ref=ref,
            sent_at=utcnow(),
            kind=kind,
            channel_name="#general",
        )
    )
    assert result.outcome is ReceiveOutcome.ACCEPTED, result
    return result.inbox_id


async def copied_while(bot: Bot) -> str:
    """Alice tells a secret and the model is held while it thinks (the test's forget lands
    then); once released, it copies the secret into blocks, archival memory and its reply."""
    bot.llm.push(
        tool_call("core_memory_append", label="channel", content=f"Alice: {SECRET}."),
        tool_call("core_memory_append", label="team", content=f"Team: {SECRET}."),
        tool_call("archival_memory_insert", content=f"Alice said {SECRET}."),
        tool_call("send_message", message=f"{SECRET}, noted!"),
    )
    bot.llm.block()
    inbox_id = await sent(bot, f"The code is {SECRET}.", "M-1")
    async with asyncio.timeout(20):
        await bot.llm.wait_for_in_flight(1)
    return inbox_id


async def settled(bot: Bot, inbox_id: str) -> None:
    """Release the model; return once the turn is settled and the forget redone after it
    (the marks on its items are dropped when it is)."""
    bot.llm.unblock()
    async with asyncio.timeout(30):
        await bot.runtime.engine.wait_settled(inbox_id)
    for _ in range(600):
        if not await store_of(bot).inbox.marked(10):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the forget that landed during the turn was not redone")


async def secret_left(bot: Bot) -> list[str]:
    return [text for text in await dump(store_of(bot)) if SECRET[:6] in text]


async def test_forgetting_a_person_mid_turn_removes_what_the_turn_stored_of_them(
    backend: str, tmp_path: Path, llm: FakeOpenAI
) -> None:
    async with running(backend, tmp_path, llm) as bot:
        inbox_id = await copied_while(bot)
        await bot.runtime.user_data.forget_user(WS, "alice")
        await settled(bot, inbox_id)

        assert await said_by(bot, "alice") == []
        assert await secret_left(bot) == []
        # Alice may talk again, and is remembered from then on.
        llm.push(tool_call("send_message", message="hello again"))
        assert await bot.say(public("general"), "alice", "I'm back") == ["hello again"]
        assert len(await said_by(bot, "alice")) == 1


async def test_a_message_deleted_on_the_platform_mid_turn_leaves_nothing_derived(
    backend: str, tmp_path: Path, llm: FakeOpenAI
) -> None:
    async with running(backend, tmp_path, llm) as bot:
        inbox_id = await copied_while(bot)
        await sent(bot, "", "M-1", InboundKind.DELETE)
        await settled(bot, inbox_id)

        assert await said_by(bot, "alice") == []
        assert await secret_left(bot) == []
