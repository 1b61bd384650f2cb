"""Tool calls that need a person's approval, through the whole bot on the scripted model: the
turn pauses with the request kept in the store, the approver is asked, and Approve, Deny or
expiry resumes the conversation with a new message its agent answers. A double press runs
the tool once, a non-approver is refused, and a restart while pending loses nothing."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from bot.wiring import Runtime
from engine import (
    ApprovalDesk,
    ApprovalRequest,
    ApprovalStatus,
    Audience,
    DecisionOutcome,
    RecordFilter,
    utcnow,
)
from engine.records import Author, Inbound, ToolRule, new_id
from engine.store.lineage import Derived
from jobs.approvals import ApprovalUpkeepJob
from tests.fakes.discord_world import eventually
from tests.fakes.openai_server import FakeOpenAI, tool_call
from tests.harness import Bot, bot_running, dm, settings_for

FACT = "The deploy key rotates on Fridays."


class RecordingPrompter:
    """The test platform's approval prompts: what it was asked to show."""

    platform = "test"
    agent_id = ""

    def __init__(self) -> None:
        self.asked: list[ApprovalRequest] = []

    async def ask_approval(self, request: ApprovalRequest) -> None:
        self.asked.append(request)


def waiting_request(
    platform: str, agent: str, audience: Audience, approvers: tuple[str, ...]
) -> ApprovalRequest:
    """A call of ``archival_memory_insert`` made in ``audience``, for ``approvers`` to decide."""
    asker = audience.user or "asker"
    asked = Inbound(
        platform=platform,
        agent_id=agent,
        audience=audience,
        thread="",
        author=Author(asker, "Asker"),
        text="remember the rotation",
        event_id=f"Ev-{audience.channel}",
        message_ref="1700000001.000100",
        sent_at=utcnow(),
    )
    now = utcnow()
    return ApprovalRequest(
        id=f"request-{audience.channel}",
        agent_id=agent,
        workspace=audience.workspace,
        channel=audience.channel,
        thread="",
        tool="archival_memory_insert",
        arguments=json.dumps({"content": FACT}),
        requester=asker,
        approvers=approvers,
        inbound=asked,
        created_at=now,
        expires_at=now + timedelta(hours=1),
    )


async def require_approval(runtime: Runtime) -> None:
    """The runtime's agent may keep archival passages only with the speaker's approval."""
    agent = dataclasses.replace(
        runtime.default_agent,
        tool_rules=(ToolRule("requires_approval", "archival_memory_insert"),),
    )
    await runtime.store.agents.put(agent)


async def gated_bot(bot: Bot) -> RecordingPrompter:
    """``require_approval``, with the test platform's prompts recorded."""
    await require_approval(bot.runtime)
    prompter = RecordingPrompter()
    bot.runtime.agents.approval_prompts.register(prompter)
    return prompter


async def pause(bot: Bot, llm: FakeOpenAI) -> None:
    """Alice asks; the agent's call waits for her approval and the turn ends without a reply."""
    llm.push(tool_call("archival_memory_insert", content=FACT))
    assert await bot.say(dm("alice"), "alice", "Remember that the key rotates on Fridays.") == []


async def passages(runtime: Runtime) -> list[str]:
    where = RecordFilter.for_audience(runtime.default_agent.id, dm("alice"))
    return [p.text for p in await runtime.store.passages.list(where, 50)]


async def replied(bot: Bot, *texts: str) -> None:
    await eventually(lambda: [r.text for r in bot.port.delivered] == list(texts), str(texts))


@asynccontextmanager
async def paused_bot(
    tmp_path: Path, llm: FakeOpenAI
) -> AsyncIterator[tuple[Bot, RecordingPrompter]]:
    """A gated bot whose first turn paused on alice's call, with its prompts."""
    async with bot_running(settings_for(tmp_path, llm), llm) as bot:
        prompter = await gated_bot(bot)
        await pause(bot, llm)
        yield bot, prompter


def last_user_text(llm: FakeOpenAI) -> str:
    messages = llm.chat_requests[-1]["messages"]
    return str(next(m for m in reversed(messages) if m["role"] == "user")["content"])


async def test_an_approved_call_runs_once_and_the_conversation_resumes(
    tmp_path: Path, llm: FakeOpenAI
) -> None:
    async with paused_bot(tmp_path, llm) as (bot, prompter):
        [request] = prompter.asked
        assert (request.tool, request.requester, request.approvers) == (
            "archival_memory_insert",
            "alice",
            ("alice",),
        )
        assert await passages(bot.runtime) == []
        desk = bot.runtime.approvals

        refused = await desk.decide_approval(request.id, "bob", approve=True)
        assert refused.outcome is DecisionOutcome.NOT_APPROVER
        assert refused.text == "Only alice may approve or deny this call of archival_memory_insert."

        llm.push(tool_call("send_message", message="Saved it."))
        first, second = await asyncio.gather(
            desk.decide_approval(request.id, "alice", approve=True),
            desk.decide_approval(request.id, "alice", approve=True),
        )
        assert sorted([first.outcome, second.outcome]) == sorted(
            [DecisionOutcome.APPROVED, DecisionOutcome.DECIDED_ALREADY]
        )
        await replied(bot, "Saved it.")
        assert await passages(bot.runtime) == [FACT]
        # What the approved call wrote derives from what alice said when she asked.
        store = bot.runtime.store
        where = RecordFilter.for_audience(bot.runtime.default_agent.id, dm("alice"))
        [kept] = await store.passages.list(where, 50)
        asked = await store.inbox.get(request.source)
        assert asked is not None
        assert asked.inbound.text == "Remember that the key rotates on Fridays."
        sources = await store.lineage.sources_of(Derived.PASSAGE, [kept.id])
        assert request.source in sources[kept.id]
        assert "alice approved archival_memory_insert. Result:" in last_user_text(llm)
        # The resumed turn sees its paused call, and what came of it, in order.
        tools = [m["content"] for m in llm.chat_requests[-1]["messages"] if m["role"] == "tool"]
        assert tools[-1].startswith("Waiting for approval: alice must approve this call")
        stored = await bot.runtime.store.approvals.get(request.id)
        assert stored is not None
        assert stored.status is ApprovalStatus.APPROVED
        again = await desk.decide_approval(request.id, "alice", approve=False)
        assert again.outcome is DecisionOutcome.DECIDED_ALREADY
        assert await passages(bot.runtime) == [FACT]


async def test_a_denied_call_never_runs_and_the_agent_hears_so(
    tmp_path: Path, llm: FakeOpenAI
) -> None:
    async with paused_bot(tmp_path, llm) as (bot, prompter):
        llm.push(tool_call("send_message", message="Fine, I won't."))
        answer = await bot.runtime.approvals.decide_approval(
            prompter.asked[0].id, "alice", approve=False
        )
        assert answer.outcome is DecisionOutcome.DENIED
        assert answer.text == "Denied by alice: archival_memory_insert did not run."
        await replied(bot, "Fine, I won't.")
        assert "alice denied archival_memory_insert; it did not run." in last_user_text(llm)
        assert await passages(bot.runtime) == []


async def test_an_overdue_request_expires_once_and_can_no_longer_be_approved(
    tmp_path: Path, llm: FakeOpenAI
) -> None:
    async with paused_bot(tmp_path, llm) as (bot, prompter):
        runtime = bot.runtime
        soon = ApprovalDesk(runtime.store, runtime.agents, runtime.engine, clock=utcnow)
        assert await soon.expire_overdue() == 0
        later = ApprovalDesk(
            runtime.store,
            runtime.agents,
            runtime.engine,
            clock=lambda: utcnow() + timedelta(hours=2),
        )
        # The scheduled job finds the request once it is overdue, and expires it.
        job = ApprovalUpkeepJob(later)
        assert "approvals" in runtime.jobs.names
        assert await job.targets(utcnow()) == []
        assert len(await job.targets(utcnow() + timedelta(hours=2))) == 1
        llm.push(tool_call("send_message", message="It expired."))
        assert await later.expire_overdue() == 1
        assert await later.expire_overdue() == 0
        await replied(bot, "It expired.")
        assert "Nobody approved archival_memory_insert in time" in last_user_text(llm)
        late = await soon.decide_approval(prompter.asked[0].id, "alice", approve=True)
        assert late.outcome is DecisionOutcome.DECIDED_ALREADY
        assert await passages(runtime) == []


async def test_a_request_pending_across_a_restart_is_decided_by_the_new_process(
    tmp_path: Path, llm: FakeOpenAI
) -> None:
    settings = settings_for(tmp_path, llm)
    async with bot_running(settings, llm) as bot:
        prompter = await gated_bot(bot)
        await pause(bot, llm)
    async with bot_running(settings, llm) as bot:
        llm.push(tool_call("send_message", message="Saved after the restart."))
        answer = await bot.runtime.approvals.decide_approval(
            prompter.asked[0].id, "alice", approve=True
        )
        assert answer.outcome is DecisionOutcome.APPROVED
        await replied(bot, "Saved after the restart.")
        assert await passages(bot.runtime) == [FACT]


async def test_a_decision_a_stop_interrupted_is_told_later_without_running_again(
    tmp_path: Path, llm: FakeOpenAI
) -> None:
    async with paused_bot(tmp_path, llm) as (bot, prompter):
        runtime = bot.runtime
        request = prompter.asked[0]
        # The bot stopped right after the approval was kept, before the call ran.
        approved = await runtime.store.approvals.decide(
            request.id, ApprovalStatus.APPROVED, "alice", utcnow()
        )
        assert approved is not None
        assert await runtime.approvals.resume_interrupted() == 0
        soon = utcnow() + timedelta(minutes=20)
        later = ApprovalDesk(runtime.store, runtime.agents, runtime.engine, clock=lambda: soon)
        assert await later.upkeep_due(soon)
        llm.push(tool_call("send_message", message="That may not have finished."))
        assert await later.resume_interrupted() == 1
        await replied(bot, "That may not have finished.")
        told = "alice approved archival_memory_insert, but the bot stopped while it ran"
        assert told in last_user_text(llm)
        assert await later.resume_interrupted() == 0
        assert not await later.upkeep_due(soon)
        assert await passages(runtime) == []


async def test_an_agent_cannot_ask_for_a_call_only_the_asker_may_approve(
    tmp_path: Path, llm: FakeOpenAI
) -> None:
    async with bot_running(settings_for(tmp_path, llm), llm) as bot:
        prompter = await gated_bot(bot)
        llm.push(
            tool_call("archival_memory_insert", content=FACT),
            tool_call("send_message", message="I can't keep that for you."),
        )
        message_id = new_id()
        result = await bot.runtime.engine.receive(
            Inbound(
                platform="test",
                agent_id=bot.runtime.default_agent.id,
                audience=dm("alice"),
                thread="",
                author=Author("agent-2", "Scout", is_agent=True),
                text="Keep this: the key rotates on Fridays.",
                event_id=message_id,
                message_ref=message_id,
                sent_at=utcnow(),
            )
        )
        async with asyncio.timeout(30):
            await bot.runtime.engine.wait_settled(result.inbox_id)
        assert [r.text for r in bot.port.delivered] == ["I can't keep that for you."]
        [refused] = [m["content"] for m in llm.chat_requests[-1]["messages"] if m["role"] == "tool"]
        assert refused.startswith(
            "Error: archival_memory_insert needs the approval of the person who asks, and an "
            "agent asked"
        )
        assert prompter.asked == []
        assert await passages(bot.runtime) == []


async def test_an_approvers_press_after_the_deadline_expires_the_request(
    tmp_path: Path, llm: FakeOpenAI
) -> None:
    async with paused_bot(tmp_path, llm) as (bot, prompter):
        runtime = bot.runtime
        late = utcnow() + timedelta(hours=2)
        desk = ApprovalDesk(runtime.store, runtime.agents, runtime.engine, clock=lambda: late)
        llm.push(tool_call("send_message", message="Too late, sorry."))
        answer = await desk.decide_approval(prompter.asked[0].id, "alice", approve=True)
        assert answer.outcome is DecisionOutcome.EXPIRED
        assert (
            answer.text
            == "Expired: nobody approved archival_memory_insert in time; it did not run."
        )
        await replied(bot, "Too late, sorry.")
        assert await passages(runtime) == []


async def test_an_approved_call_that_fails_says_so_and_the_agent_reads_why(
    tmp_path: Path, llm: FakeOpenAI
) -> None:
    async with bot_running(settings_for(tmp_path, llm), llm) as bot:
        prompter = await gated_bot(bot)
        llm.push(tool_call("archival_memory_insert", note="no content"))
        assert await bot.say(dm("alice"), "alice", "Remember this.") == []
        llm.push(tool_call("send_message", message="That did not work."))
        answer = await bot.runtime.approvals.decide_approval(
            prompter.asked[0].id, "alice", approve=True
        )
        assert answer.outcome is DecisionOutcome.APPROVED
        assert answer.text == "Approved by alice, but archival_memory_insert failed."
        await replied(bot, "That did not work.")
        assert "Result: Error: invalid arguments for archival_memory_insert" in last_user_text(llm)
