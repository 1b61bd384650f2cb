"""The intake chain: steps run in order, each sees what the one before passed on, the engine
gets what is left; unparseable events go straight to the engine's reject."""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass, field

from adapters.intake import Arrival, IntakeChain, NextStep, ignored, intake_chain
from adapters.policy import ChannelPolicies, ChannelPolicy
from engine.ports import ReceiveOutcome, ReceiveResult
from tests.unit.intake_doubles import RecordingIntake, said


def arrival(author: str = "U_ANN", *, channel: str = "C1", from_bot: bool = False) -> Arrival:
    message = dataclasses.replace(said(author, channel=channel), respond=True)
    return Arrival(message, bot_user="U_BOT", from_bot=from_bot, places=(channel,))


@dataclass
class Tagging:
    """A step that appends its name to the text and notes that it ran."""

    name: str
    log: list[str] = field(default_factory=list)

    async def process(self, arrival: Arrival, next_step: NextStep) -> ReceiveResult:
        self.log.append(self.name)
        text = f"{arrival.inbound.text} {self.name}"
        return await next_step(
            dataclasses.replace(arrival, inbound=dataclasses.replace(arrival.inbound, text=text))
        )


@dataclass
class Stopping:
    log: list[str] = field(default_factory=list)

    async def process(self, arrival: Arrival, next_step: NextStep) -> ReceiveResult:
        self.log.append("stop")
        return ignored("stopped")


def test_steps_run_in_order_and_the_engine_gets_what_the_last_one_passed_on() -> None:
    log: list[str] = []
    port = RecordingIntake()
    chain = IntakeChain([Tagging("first", log), Tagging("second", log)], port)

    result = asyncio.run(chain.receive(arrival()))

    assert log == ["first", "second"]
    assert [i.text for i in port.received] == ["hello first second"]
    assert result.outcome is ReceiveOutcome.ACCEPTED


def test_a_step_that_answers_stops_the_chain_before_the_engine() -> None:
    log: list[str] = []
    port = RecordingIntake()
    chain = IntakeChain([Stopping(log), Tagging("after", log)], port)

    result = asyncio.run(chain.receive(arrival()))

    assert log == ["stop"]
    assert port.received == []
    assert (result.outcome, result.reason) == (ReceiveOutcome.IGNORED, "stopped")


def test_unparseable_events_are_kept_by_the_engine_with_their_error() -> None:
    port = RecordingIntake()
    chain = IntakeChain([Stopping()], port)

    asyncio.run(chain.reject("slack", {"event_id": "Ev1"}, "the message lacks its ts"))

    assert port.rejected == [("slack", {"event_id": "Ev1"}, "the message lacks its ts")]


def test_a_bots_chain_hears_people_where_it_serves_and_nothing_else() -> None:
    port = RecordingIntake()
    chain = intake_chain(
        port, policies=ChannelPolicies(ChannelPolicy.OPEN), served_channels={"C_SERVED"}
    )

    async def feed() -> list[ReceiveOutcome]:
        arrivals = [
            arrival(channel="C_SERVED"),
            arrival("U_BOT", channel="C_SERVED"),
            arrival("U_HOOK", channel="C_SERVED", from_bot=True),
            arrival(channel="C_ELSEWHERE"),
        ]
        return [(await chain.receive(a)).outcome for a in arrivals]

    outcomes = asyncio.run(feed())

    assert outcomes == [ReceiveOutcome.ACCEPTED] + [ReceiveOutcome.IGNORED] * 3
    assert [(i.channel, i.author.id, i.respond) for i in port.received] == [
        ("C_SERVED", "U_ANN", True)
    ]
