"""Intake test doubles: an engine intake that records what reaches it, and the adapters' intake
chain run on one arrival, as the Slack and Discord adapters run it."""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from adapters.intake import Arrival, ChannelTraffic, intake_chain
from adapters.policy import ChannelPolicies
from engine.audience import Audience, AudienceKind
from engine.messaging import PeerAgent
from engine.ports import ReceiveOutcome, ReceiveResult
from engine.records import JSON, Author, Inbound, InboundKind, new_id, utcnow

NO_POLICIES = ChannelPolicies()


def said(
    author: str = "U_ANN",
    *,
    kind: AudienceKind = AudienceKind.PUBLIC,
    channel: str = "C1",
    change: InboundKind = InboundKind.MESSAGE,
) -> Inbound:
    """A plain message (or edit, deletion) by ``author``, not yet asked to be answered."""
    return Inbound(
        platform="slack",
        agent_id="agent-1",
        audience=Audience("slack:T1", kind, channel, author if kind is AudienceKind.DM else None),
        thread="",
        author=Author(author, author),
        text="hello",
        event_id="e1",
        message_ref="1.1",
        sent_at=utcnow(),
        kind=change,
        respond=False,
    )


@dataclass
class RecordingIntake:
    """The engine's intake port, keeping what it was handed."""

    received: list[Inbound] = field(default_factory=list)
    rejected: list[tuple[str, JSON, str]] = field(default_factory=list)

    async def receive(self, inbound: Inbound) -> ReceiveResult:
        self.received.append(inbound)
        return ReceiveResult(ReceiveOutcome.ACCEPTED, inbox_id=new_id())

    async def reject(self, platform: str, raw: JSON, error: str) -> None:
        self.rejected.append((platform, raw, error))


@dataclass
class RecordingNext:
    """The rest of the chain, for testing one step alone: keeps what the step passed on."""

    passed: list[Arrival] = field(default_factory=list)

    async def __call__(self, arrival: Arrival) -> ReceiveResult:
        self.passed.append(arrival)
        return ReceiveResult(ReceiveOutcome.ACCEPTED)


def through_intake(
    arrival: Arrival | None,
    *,
    policies: ChannelPolicies = NO_POLICIES,
    peers: Mapping[str, PeerAgent] | None = None,
    traffic: ChannelTraffic | None = None,
    served_channels: Collection[str] = (),
) -> Inbound | None:
    """What the engine would get for ``arrival`` from a bot's intake chain; None when the
    adapter built nothing or the chain let it pass by."""
    if arrival is None:
        return None
    port = RecordingIntake()
    chain = intake_chain(
        port, policies=policies, peers=peers, traffic=traffic, served_channels=served_channels
    )
    asyncio.run(chain.receive(arrival))
    return port.received[0] if port.received else None
