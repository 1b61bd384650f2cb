"""The ordered intake chain every adapter hands its arrivals to, ending in the engine."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Protocol

from adapters.intake.arrival import Arrival, IntakeStep
from adapters.intake.evidence import evidence_of, storable_text
from adapters.intake.steps import (
    FollowChannelPolicy,
    IgnoreOtherBots,
    IgnoreOwnMessages,
    ServedChannelsOnly,
)
from adapters.intake.traffic import ChannelTraffic, PeerAgentTraffic
from adapters.policy import ChannelPolicies
from engine import JSON, IntakePort, PeerAgent, ReceiveResult


class IntakeChain:
    """Runs ``steps`` in order, each handing the arrival (maybe changed) to the next; past
    the last one the message goes to the engine's intake ``port``."""

    def __init__(self, steps: Sequence[IntakeStep], port: IntakePort) -> None:
        self._steps = tuple(steps)
        self._port = port

    async def receive(self, arrival: Arrival) -> ReceiveResult:
        return await self._run(0, arrival)

    async def reject(self, platform: str, raw: JSON, error: str) -> None:
        """Keep an event the adapter could not parse, for the operator (bounded in size and
        depth, so even a hostile payload can be kept)."""
        await self._port.reject(platform, evidence_of(raw), storable_text(error))

    async def _run(self, index: int, arrival: Arrival) -> ReceiveResult:
        if index == len(self._steps):
            return await self._port.receive(arrival.inbound)

        async def next_step(passed: Arrival) -> ReceiveResult:
            return await self._run(index + 1, passed)

        return await self._steps[index].process(arrival, next_step)


def intake_chain(
    port: IntakePort,
    *,
    policies: ChannelPolicies,
    peers: Mapping[str, PeerAgent] | None = None,
    traffic: ChannelTraffic | None = None,
    served_channels: Collection[str] = (),
) -> IntakeChain:
    """The one chain of a bot: ``hearing_steps``, then the traffic between agents; what is
    left reaches ``port``."""
    peers = peers or {}
    steps = hearing_steps(policies, peers, served_channels)
    if traffic is not None:
        steps.append(PeerAgentTraffic(traffic, peers))
    return IntakeChain(steps, port)


def hearing_steps(
    policies: ChannelPolicies, peers: Mapping[str, PeerAgent], served_channels: Collection[str]
) -> list[IntakeStep]:
    """Who and where a bot hears, live or in a channel's past: its own messages and
    strangers' bots passed by, then (when the agent serves only some channels) other channels,
    then the channel policy."""
    steps: list[IntakeStep] = [IgnoreOwnMessages(), IgnoreOtherBots(peers)]
    if served_channels:
        steps.append(ServedChannelsOnly(served_channels))
    steps.append(FollowChannelPolicy(policies))
    return steps


class BotHearing(Protocol):
    """Whom and where a bot hears beyond its channel policies (``adapters.serving.Serving``)."""

    @property
    def peer_agents(self) -> Mapping[str, PeerAgent]: ...

    @property
    def traffic(self) -> ChannelTraffic | None: ...

    @property
    def served_channels(self) -> frozenset[str]: ...


def bot_intake(port: IntakePort, policies: ChannelPolicies, bot: BotHearing) -> IntakeChain:
    """The intake chain of a bot with these channel policies and this hearing."""
    return intake_chain(
        port,
        policies=policies,
        peers=bot.peer_agents,
        traffic=bot.traffic,
        served_channels=bot.served_channels,
    )
