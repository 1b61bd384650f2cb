"""Each intake step alone, on plain Inbound values: what it passes on, and what it lets pass by."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from adapters.intake import (
    Arrival,
    FollowChannelPolicy,
    IgnoreOtherBots,
    IgnoreOwnMessages,
    IntakeStep,
    ServedChannelsOnly,
)
from adapters.policy import ChannelPolicies, ChannelPolicy
from engine.audience import AudienceKind
from engine.ports import ReceiveOutcome, ReceiveResult
from engine.records import Inbound, InboundKind
from tests.unit.intake_doubles import RecordingNext, said

BOT = "U_BOT"


def arrival(
    message: Inbound | None = None,
    *,
    bot_user: str = BOT,
    from_bot: bool = False,
    addressed: bool = False,
    places: tuple[str, ...] = (),
) -> Arrival:
    return Arrival(message or said(), bot_user, from_bot, addressed, places)


def run(step: IntakeStep, given: Arrival) -> tuple[ReceiveResult, list[Arrival]]:
    rest = RecordingNext()
    result = asyncio.run(step.process(given, rest))
    return result, rest.passed


def passed_on(step: IntakeStep, given: Arrival) -> Inbound | None:
    result, passed = run(step, given)
    if not passed:
        assert result.outcome is ReceiveOutcome.IGNORED
        assert result.reason
        return None
    [only] = passed
    return only.inbound


# -- IgnoreOwnMessages ---------------------------------------------------------------------------


def test_own_message_edit_and_deletion_are_let_pass_by() -> None:
    step = IgnoreOwnMessages()
    for change in InboundKind:
        assert passed_on(step, arrival(said(BOT, change=change))) is None


def test_other_peoples_messages_go_on_unchanged() -> None:
    given = arrival()
    assert passed_on(IgnoreOwnMessages(), given) is given.inbound


def test_without_a_known_bot_user_a_message_without_author_is_not_taken_for_our_own() -> None:
    given = arrival(said("", change=InboundKind.DELETE), bot_user="")
    assert passed_on(IgnoreOwnMessages(), given) is given.inbound


# -- IgnoreOtherBots -----------------------------------------------------------------------------


def test_a_bot_that_is_not_a_peer_agent_is_let_pass_by() -> None:
    step = IgnoreOtherBots(peers={"U_PEER"})
    assert passed_on(step, arrival(said("U_INTEGRATION"), from_bot=True)) is None


def test_a_peer_agents_bot_user_and_people_are_heard() -> None:
    step = IgnoreOtherBots(peers={"U_PEER"})
    assert passed_on(step, arrival(said("U_PEER"), from_bot=True)) is not None
    assert passed_on(step, arrival(said("U_PEER"))) is not None
    assert passed_on(step, arrival(said("U_ANN"))) is not None


# -- ServedChannelsOnly --------------------------------------------------------------------------


def test_only_the_served_channels_and_dms_are_heard() -> None:
    step = ServedChannelsOnly({"C_SERVED"})
    assert passed_on(step, arrival(said(channel="C_SERVED"))) is not None
    assert passed_on(step, arrival(said(kind=AudienceKind.DM, channel="D1"))) is not None
    result, passed = run(step, arrival(said(channel="C_ELSEWHERE")))
    assert passed == []
    assert result.outcome is ReceiveOutcome.IGNORED
    assert "C_ELSEWHERE is not one of the agent's channels" in result.reason


def test_edits_in_other_channels_are_not_heard_either() -> None:
    step = ServedChannelsOnly({"C_SERVED"})
    assert passed_on(step, arrival(said(change=InboundKind.EDIT))) is None


# -- FollowChannelPolicy -------------------------------------------------------------------------


def policy_step(default: ChannelPolicy, **overrides: ChannelPolicy) -> FollowChannelPolicy:
    return FollowChannelPolicy(ChannelPolicies(default, overrides))


@pytest.mark.parametrize("policy", list(ChannelPolicy))
def test_dms_and_messages_addressed_to_the_bot_are_answered(policy: ChannelPolicy) -> None:
    step = policy_step(policy)
    dm = passed_on(step, arrival(said(kind=AudienceKind.DM)))
    addressed = passed_on(step, arrival(addressed=True, places=("C1",)))
    assert dm is not None
    assert dm.respond
    assert addressed is not None
    assert addressed.respond


def test_mention_policy_lets_unaddressed_channel_messages_pass_by() -> None:
    assert passed_on(policy_step(ChannelPolicy.MENTION), arrival(places=("C1",))) is None


def test_listen_remembers_without_answering_and_open_answers() -> None:
    heard = passed_on(policy_step(ChannelPolicy.LISTEN), arrival(places=("C1",)))
    answered = passed_on(policy_step(ChannelPolicy.OPEN), arrival(places=("C1",)))
    assert heard is not None
    assert not heard.respond
    assert answered is not None
    assert answered.respond


def test_a_thread_follows_its_own_entry_else_its_parents() -> None:
    step = policy_step(
        ChannelPolicy.MENTION, PARENT=ChannelPolicy.OPEN, QUIET=ChannelPolicy.MENTION
    )
    in_thread = passed_on(step, arrival(places=("THREAD", "PARENT")))
    assert in_thread is not None
    assert in_thread.respond
    assert passed_on(step, arrival(places=("QUIET", "PARENT"))) is None


@pytest.mark.parametrize("change", [InboundKind.EDIT, InboundKind.DELETE])
def test_edits_and_deletions_are_kept_under_any_policy_and_never_answered(
    change: InboundKind,
) -> None:
    given = arrival(dataclasses.replace(said(change=change), respond=True), places=("C1",))
    changed = passed_on(policy_step(ChannelPolicy.MENTION), given)
    assert changed is not None
    assert not changed.respond


def test_channel_policies_fall_back_to_the_default() -> None:
    policies = ChannelPolicies(ChannelPolicy.LISTEN, {"C_OPEN": ChannelPolicy.OPEN})
    assert policies.policy_of(("C_OPEN",)) is ChannelPolicy.OPEN
    assert policies.policy_of(("T1", "C_OPEN")) is ChannelPolicy.OPEN
    assert policies.policy_of(("C2",)) is ChannelPolicy.LISTEN
    assert policies.policy_of(()) is ChannelPolicy.LISTEN
