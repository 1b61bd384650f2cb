"""Agents talking in a shared Slack or Discord channel, each through its own bot user.

When agent B's adapter hears agent A's bot user, the message becomes one from an agent with the
thread's hop count, and is only remembered, not answered, once the traffic policy says the
agents must stop. A person writing in the thread starts the count again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from adapters.intake.arrival import Arrival, NextStep
from engine import Author, InboundKind, PeerAgent, ReceiveResult, TrafficGuard

#: Agent messages remembered per thread (for counting each once, whichever adapter sees it).
_SEEN_PER_THREAD = 256

#: (platform, workspace, channel, thread)
type ThreadKey = tuple[str, str, str, str]


class ChannelTraffic:
    """One per process, shared by every agent's adapters, so each agent message counts once
    whichever agent's bot hears it; ``policy`` says when agents must stop answering."""

    def __init__(self, policy: TrafficGuard, *, remembered_threads: int = 10_000) -> None:
        self.policy = policy
        self._threads: dict[ThreadKey, dict[str, None]] = {}
        self._bound = remembered_threads

    def agent_spoke(self, thread: ThreadKey, message_ref: str) -> int:
        """Count an agent's message in ``thread``; the thread's hop count with it."""
        seen = self._threads.pop(thread, None) or {}
        self._threads[thread] = seen
        while len(self._threads) > self._bound:
            del self._threads[next(iter(self._threads))]
        seen[message_ref] = None
        while len(seen) > _SEEN_PER_THREAD:
            del seen[next(iter(seen))]
        return len(seen)

    def person_spoke(self, thread: ThreadKey) -> None:
        """A person wrote in ``thread``: the agents may talk there again."""
        self._threads.pop(thread, None)


class PeerAgentTraffic:
    """A message from another agent's bot user (``peers``: platform user id -> agent) reaches
    the agent as one from that agent, with the thread's hop count and, past the traffic
    policy's limits, without asking for an answer."""

    def __init__(self, traffic: ChannelTraffic, peers: Mapping[str, PeerAgent]) -> None:
        self._traffic = traffic
        self._peers = peers

    async def process(self, arrival: Arrival, next_step: NextStep) -> ReceiveResult:
        inbound = arrival.inbound
        if inbound.kind is not InboundKind.MESSAGE:
            return await next_step(arrival)
        thread = (inbound.platform, inbound.workspace, inbound.channel, inbound.thread)
        peer = self._peers.get(inbound.author.id)
        if peer is None:
            self._traffic.person_spoke(thread)
            return await next_step(arrival)
        hops = self._traffic.agent_spoke(thread, inbound.message_ref)
        # Answering would add message number ``hops + 1`` to the thread.
        respond = (
            inbound.respond
            and peer.agent_id != inbound.agent_id
            and self._traffic.policy.check(
                peer.agent_id, inbound.agent_id, "/".join(thread), hops + 1, inbound.text
            ).allowed
        )
        author = Author(peer.agent_id, peer.name, is_agent=True, is_bot=True)
        from_agent = dataclasses.replace(inbound, author=author, hops=hops, respond=respond)
        return await next_step(dataclasses.replace(arrival, inbound=from_agent))
