"""Agent mail's delivery of replies: a reply handed to the sender's waiting call is recorded
as the message's answer, so delivering it again (after a crash before the outbox marked it)
neither hands it over twice nor also sends it on as a message."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from engine.messaging import AgentMail, TrafficGuard
from engine.ports import ReceiveOutcome, ReceiveResult
from engine.records import Agent, Inbound, Outbound, new_id, utcnow
from engine.store.protocol import Store
from engine.store.state import MailMode
from tests.e2e.pipeline_doubles import AGENT, inbound, open_test_store

PEER = Agent(id="agent-2", name="helper", model="fake", system_prompt="", tools=())


@pytest.fixture(params=["sqlite", "mongo"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    if request.param == "mongo":
        pytest.importorskip("tests.fakes.mongo_wire")
    async with open_test_store(request.param, tmp_path) as opened:
        await opened.agents.put(PEER)
        yield opened


class Intake:
    def __init__(self) -> None:
        self.received: list[Inbound] = []

    async def __call__(self, message: Inbound) -> ReceiveResult:
        self.received.append(message)
        return ReceiveResult(ReceiveOutcome.ACCEPTED, new_id())


def answer_to(question: Inbound, text: str) -> Outbound:
    return Outbound(
        id=new_id(),
        inbox_id=new_id(),
        platform=question.platform,
        agent_id=PEER.id,
        workspace=question.workspace,
        channel=question.channel,
        thread=question.thread,
        text=text,
        reply_to=question.message_ref,
        index=0,
        created_at=utcnow(),
    )


async def test_a_reply_handed_to_the_waiting_call_is_delivered_once(store: Store) -> None:
    mail, intake = AgentMail(store.agents, store.mail, store.lineage, TrafficGuard()), Intake()
    mail.connect(intake)
    sent = await mail.send(
        AGENT, PEER, "what is 2 + 2?", asked_in=inbound("hi"), mode=MailMode.WAIT
    )
    message_id = sent.id
    [question] = intake.received
    reply = answer_to(question, "4")

    waiting = asyncio.create_task(mail.wait(message_id, within=5))
    await asyncio.sleep(0)
    first = await mail.deliver(reply)
    assert await waiting == "4"
    assert await mail.deliver(reply) == first
    stored = await store.mail.get(message_id)
    assert stored is not None
    assert stored.answered_by == reply.id
    assert len(intake.received) == 1  # nothing was sent on as a message

    # A second, different reply has no waiting call to go to: it arrives as a message.
    later = replace(answer_to(question, "still 4"), index=1)
    await mail.deliver(later)
    assert [m.text for m in intake.received[1:]] == ["still 4"]


async def test_a_reply_that_comes_before_the_waiting_call_starts_is_returned_by_it(
    store: Store,
) -> None:
    """The sender's tool may still be busy (sending to other agents) when the reply lands."""
    mail, intake = AgentMail(store.agents, store.mail, store.lineage, TrafficGuard()), Intake()
    mail.connect(intake)
    sent = await mail.send(
        AGENT, PEER, "what is 2 + 2?", asked_in=inbound("hi"), mode=MailMode.WAIT
    )
    [question] = intake.received

    await mail.deliver(answer_to(question, "4"))

    assert await mail.wait(sent.id, within=5) == "4"
    assert len(intake.received) == 1  # nothing was sent on as a message
