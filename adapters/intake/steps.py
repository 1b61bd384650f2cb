"""The intake steps that decide whether a message is for the agent and whether to answer it."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection

from adapters.intake.arrival import Arrival, NextStep, ignored
from adapters.policy import ChannelPolicies, ChannelPolicy
from engine import AudienceKind, InboundKind, ReceiveResult


class IgnoreOwnMessages:
    """The agent never hears itself: what its own bot user posted, edited or deleted."""

    async def process(self, arrival: Arrival, next_step: NextStep) -> ReceiveResult:
        if arrival.bot_user and arrival.inbound.author.id == arrival.bot_user:
            return ignored("the agent's own message")
        return await next_step(arrival)


class IgnoreOtherBots:
    """Integrations' posts are not conversation; another agent of this deployment is heard.

    ``peers`` are the platform user ids of the deployment's other agents' bot users.
    """

    def __init__(self, peers: Collection[str]) -> None:
        self._peers = frozenset(peers)

    async def process(self, arrival: Arrival, next_step: NextStep) -> ReceiveResult:
        if arrival.from_bot and arrival.inbound.author.id not in self._peers:
            return ignored("a bot that is not one of this deployment's agents")
        return await next_step(arrival)


class ServedChannelsOnly:
    """An agent that serves only some channels hears those, and its DMs."""

    def __init__(self, channels: Collection[str]) -> None:
        self._channels = frozenset(channels)

    async def process(self, arrival: Arrival, next_step: NextStep) -> ReceiveResult:
        inbound = arrival.inbound
        if inbound.audience.kind is AudienceKind.DM or inbound.channel in self._channels:
            return await next_step(arrival)
        return ignored(f"channel {inbound.channel} is not one of the agent's channels")


class FollowChannelPolicy:
    """Whether a message is remembered and answered: DMs and messages addressed to the bot
    are answered; other channel messages follow the channel's policy. Edits and deletions
    change what is remembered and are never answered."""

    def __init__(self, policies: ChannelPolicies) -> None:
        self._policies = policies

    async def process(self, arrival: Arrival, next_step: NextStep) -> ReceiveResult:
        inbound = arrival.inbound
        if inbound.kind is not InboundKind.MESSAGE:
            respond = False
        elif inbound.audience.kind is AudienceKind.DM or arrival.addressed:
            respond = True
        else:
            policy = self._policies.policy_of(arrival.places)
            if policy is ChannelPolicy.MENTION:
                return ignored("the message does not mention the agent in a mention-only channel")
            respond = policy is ChannelPolicy.OPEN
        answered = dataclasses.replace(inbound, respond=respond)
        return await next_step(dataclasses.replace(arrival, inbound=answered))
