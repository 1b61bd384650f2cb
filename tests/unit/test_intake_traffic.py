"""PeerAgentTraffic alone: another agent's bot user heard as that agent, with the thread's hop
count, and no answer asked for past the traffic policy's limits."""

from __future__ import annotations

import asyncio
import dataclasses

from adapters.intake import Arrival, ChannelTraffic, PeerAgentTraffic
from engine.audience import Audience, AudienceKind
from engine.messaging import TrafficGuard, TrafficLimits
from engine.messaging.channels import PeerAgent
from engine.records import Author, Inbound, InboundKind, utcnow
from tests.unit.intake_doubles import RecordingNext


def admit(traffic: ChannelTraffic, inbound: Inbound) -> Inbound:
    """What the step passes on for ``inbound``, heard by one of ``PEERS``' adapters."""
    rest = RecordingNext()
    step = PeerAgentTraffic(traffic, PEERS)
    asyncio.run(step.process(Arrival(inbound, bot_user="U_SELF"), rest))
    [passed] = rest.passed
    return passed.inbound


def message(author: str, ref: str, *, agent: str = "B", respond: bool = True) -> Inbound:
    return Inbound(
        platform="slack",
        agent_id=agent,
        audience=Audience("slack:T1", AudienceKind.PUBLIC, "C1"),
        thread="T1",
        author=Author(author, author),
        text=f"message {ref} from {author}",
        event_id=f"e-{ref}-{agent}",
        message_ref=ref,
        sent_at=utcnow(),
        respond=respond,
    )


PEERS = {"U_A": PeerAgent("A", "alpha"), "U_B": PeerAgent("B", "beta")}


def test_message_from_a_peer_bot_becomes_an_agent_message_with_the_thread_hop_count() -> None:
    traffic = ChannelTraffic(TrafficGuard(TrafficLimits(max_hops=10)))
    first = admit(traffic, message("U_A", "1"))
    assert first.author == Author("A", "alpha", is_agent=True, is_bot=True)
    assert (first.hops, first.respond) == (1, True)
    # The same message seen by a third agent's adapter counts once.
    same = admit(traffic, message("U_A", "1", agent="C"))
    assert same.hops == 1
    second = admit(traffic, message("U_B", "2", agent="A"))
    assert second.hops == 2


def test_agents_stop_answering_each_other_at_the_hop_limit_until_a_person_speaks() -> None:
    traffic = ChannelTraffic(TrafficGuard(TrafficLimits(max_hops=3)))
    assert admit(traffic, message("U_A", "1")).respond
    assert admit(traffic, message("U_B", "2", agent="A")).respond
    last = admit(traffic, message("U_A", "3"))
    assert last.hops == 3
    assert not last.respond  # an answer would be a fourth agent message
    person = admit(traffic, message("U_PERSON", "4"))
    assert person.respond
    assert not person.author.is_agent
    assert person.hops == 0
    assert admit(traffic, message("U_A", "5")).hops == 1


def test_messages_that_asked_for_no_answer_and_edits_pass_unchanged_in_intent() -> None:
    traffic = ChannelTraffic(TrafficGuard())
    quiet = admit(traffic, message("U_A", "1", respond=False))
    assert quiet.author.is_agent
    assert not quiet.respond
    edit = dataclasses.replace(message("U_A", "1"), kind=InboundKind.EDIT)
    assert admit(traffic, edit) is edit


def test_threads_are_counted_apart_and_the_oldest_are_forgotten_past_the_bound() -> None:
    traffic = ChannelTraffic(TrafficGuard(), remembered_threads=1)
    assert admit(traffic, message("U_A", "1")).hops == 1
    other = dataclasses.replace(message("U_A", "2"), thread="T2")
    assert admit(traffic, other).hops == 1
    assert admit(traffic, message("U_A", "3")).hops == 1  # thread T1 was forgotten
