"""Several agents of one deployment working together through the messaging tools, each driven
by a scripted model: supervisor-worker fan-out, replies that outlive a wait, audience rules."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from engine.audience import Scope
from engine.records import ConversationKey
from engine.store.protocol import RecordFilter
from tests.fakes.openai_server import FakeOpenAI, Step, delay, echo_responder, tool_call
from tests.harness import Bot, bot_running, dm, public, settings_for

JSON = dict[str, Any]
Script = Callable[[JSON], Step]

AGENTS_FILE = """\
agents:
  - name: supervisor
    system_prompt: You are supervisor.
    tools: [send_message, no_reply, send_message_to_agents_matching_tags,
            send_message_to_agent_and_wait_for_reply, send_message_to_agent_async]
  - name: worker-1
    system_prompt: You are worker-1.
    tags: [worker]
  - name: worker-2
    system_prompt: You are worker-2.
    tags: [worker]
  - name: worker-3
    system_prompt: You are worker-3.
    tags: [worker, slow]
"""


def agent_of(body: JSON) -> str:
    system = str(body["messages"][0]["content"])
    return system.removeprefix("You are ").split(".", 1)[0]


def tool_results(body: JSON) -> list[str]:
    return [str(m["content"]) for m in body["messages"] if m["role"] == "tool"]


def last_user(body: JSON) -> str:
    return next(str(m["content"]) for m in reversed(body["messages"]) if m["role"] == "user")


def said(body: JSON) -> str:
    """The last message as "author: text", without its timestamp."""
    return last_user(body).split("] ", 1)[-1]


def scripted(scripts: dict[str, Script]) -> Callable[[JSON], Step]:
    def respond(body: JSON) -> Step:
        script = scripts.get(agent_of(body))
        return script(body) if script is not None else echo_responder(body)

    return respond


def worker(body: JSON) -> Step:
    task = last_user(body).rsplit(": ", 1)[-1].strip()
    return tool_call("send_message", message=f"{agent_of(body)} did: {task}")


async def delivered(bot: Bot, count: int) -> None:
    """Wait until the platform got ``count`` replies (some arrive after the turn that asked)."""
    async with asyncio.timeout(15):
        while len(bot.port.delivered) < count:  # noqa: ASYNC110 - the port offers no event
            await asyncio.sleep(0.05)


@pytest.fixture
async def llm() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as server:
        yield server


@pytest.fixture
async def bot(tmp_path: Path, llm: FakeOpenAI) -> AsyncIterator[Bot]:
    agents_file = tmp_path / "agents.yml"
    agents_file.write_text(AGENTS_FILE)
    settings = settings_for(tmp_path, llm, MNEMO_AGENTS_FILE=agents_file, MNEMO_AGENT="supervisor")
    async with bot_running(settings, llm) as running:
        yield running


async def test_supervisor_fans_out_to_tagged_workers_and_combines_their_replies(
    bot: Bot, llm: FakeOpenAI
) -> None:
    def supervisor(body: JSON) -> Step:
        results = tool_results(body)
        if not results:
            return tool_call(
                "send_message_to_agents_matching_tags", tags=["worker"], message="summarise Q3"
            )
        combined = " | ".join(sorted(results[-1].splitlines()[1:]))
        return tool_call("send_message", message=f"Combined: {combined}")

    llm.responder = scripted(
        {"supervisor": supervisor, "worker-1": worker, "worker-2": worker, "worker-3": worker}
    )
    replies = await bot.say(dm("alice"), "alice", "Please get the team to summarise Q3.")

    assert replies == [
        "Combined: worker-1: worker-1 did: summarise Q3 | worker-2: worker-2 did: summarise Q3 "
        "| worker-3: worker-3 did: summarise Q3"
    ]
    asked = [b for b in llm.chat_requests if agent_of(b).startswith("worker")]
    assert sorted(agent_of(b) for b in asked) == ["worker-1", "worker-2", "worker-3"]


async def test_worker_learns_under_the_audience_of_the_supervisors_turn(
    bot: Bot, llm: FakeOpenAI
) -> None:
    def supervisor(body: JSON) -> Step:
        if not tool_results(body):
            return tool_call(
                "send_message_to_agent_and_wait_for_reply",
                agent_name="worker-1",
                message="alice is allergic to peanuts; remember it",
            )
        return tool_call("send_message", message=tool_results(body)[-1])

    def remembering_worker(body: JSON) -> Step:
        if not tool_results(body):
            return tool_call("archival_memory_insert", content="alice is allergic to peanuts")
        return tool_call("send_message", message="noted")

    llm.responder = scripted({"supervisor": supervisor, "worker-1": remembering_worker})
    assert await bot.say(dm("alice"), "alice", "tell worker-1 my allergy") == [
        "worker-1 replied: noted"
    ]
    store = bot.runtime.store
    worker_1 = await store.agents.by_name("worker-1")
    assert worker_1 is not None
    supervisor_id = bot.runtime.default_agent.id
    thread = f"agent:{supervisor_id}"
    messages = await store.messages.recent(
        ConversationKey(worker_1.id, "test:W1", "D-alice", thread), 0, 50
    )
    asked = messages[0]
    assert asked.author == supervisor_id
    assert asked.scope == Scope.dm("alice")
    in_public = await store.passages.count(RecordFilter.for_audience(worker_1.id, public("C1")))
    in_dm = await store.passages.count(RecordFilter.for_audience(worker_1.id, dm("alice")))
    assert (in_public, in_dm) == (0, 1)


async def test_reply_after_the_wait_ends_arrives_later_as_a_message(
    bot: Bot, llm: FakeOpenAI
) -> None:
    def supervisor(body: JSON) -> Step:
        if "worker-3 did" in last_user(body):
            return tool_call("send_message", message=f"Late news from {said(body)}")
        if not tool_results(body):
            return tool_call(
                "send_message_to_agent_and_wait_for_reply",
                agent_name="worker-3",
                message="dig deep",
                timeout=0.2,
            )
        return tool_call("send_message", message=tool_results(body)[-1])

    def slow_worker(body: JSON) -> Step:
        return delay(1.0, tool_call("send_message", message="worker-3 did: dig deep"))

    llm.responder = scripted({"supervisor": supervisor, "worker-3": slow_worker})
    first = await bot.say(public("C1"), "bob", "ask worker-3 to dig deep")
    assert first == [
        "worker-3: no reply yet; it will arrive later as a message in this conversation."
    ]
    await delivered(bot, 2)
    late = bot.port.delivered[1]
    assert late.text == "Late news from worker-3: worker-3 did: dig deep"
    assert late.channel == "C1"


async def test_async_message_returns_a_receipt_and_the_reply_comes_back(
    bot: Bot, llm: FakeOpenAI
) -> None:
    def supervisor(body: JSON) -> Step:
        if "did:" in last_user(body):
            return tool_call("send_message", message=f"Done by {said(body)}")
        if not tool_results(body):
            return tool_call(
                "send_message_to_agent_async", agent_name="worker-2", message="file the report"
            )
        return tool_call("send_message", message=tool_results(body)[-1].split(" (")[0])

    llm.responder = scripted({"supervisor": supervisor, "worker-2": worker})
    assert await bot.say(public("C1"), "bob", "have worker-2 file it") == ["Sent to worker-2"]
    await delivered(bot, 2)
    assert bot.port.delivered[1].text == "Done by worker-2: worker-2 did: file the report"


async def test_unknown_agent_and_self_messages_are_tool_errors(bot: Bot, llm: FakeOpenAI) -> None:
    def supervisor(body: JSON) -> Step:
        results = tool_results(body)
        if not results:
            return tool_call("send_message_to_agent_async", agent_name="nobody", message="hi")
        if len(results) == 1:
            return tool_call("send_message_to_agent_async", agent_name="supervisor", message="hi")
        return tool_call("send_message", message=json.dumps(results))

    llm.responder = scripted({"supervisor": supervisor})
    [reply] = await bot.say(public("C1"), "bob", "go")
    unknown, itself = json.loads(reply)
    assert unknown.startswith("Error: there is no agent called 'nobody'")
    assert "cannot message yourself" in itself
