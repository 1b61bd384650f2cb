"""Agents talking in a shared Slack or Discord channel: the adapters' side of the traffic policy.

Each agent has its own bot user. When agent B's adapter sees a message posted by agent A's bot
user, it hands the message to ``ChannelTraffic.admit``: the message becomes one from an agent,
gets the thread's hop count, and is only remembered, not answered, once the policy says the
agents must stop. A person writing in the thread starts the count again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field

from engine.messaging.policy import TrafficPolicy
from engine.records import Author, Inbound, InboundKind

#: Agent messages remembered per thread (for counting each once, whichever adapter sees it).
_SEEN_PER_THREAD = 256


@dataclass(frozen=True, slots=True)
class PeerAgent:
    """Another agent of this deployment, as its bot user appears on a platform."""

    agent_id: str
    name: str


@dataclass(slots=True)
class _Thread:
    seen: dict[str, None] = field(default_factory=dict)


class ChannelTraffic:
    """One per process, shared by every agent's adapters, so each agent message counts once."""

    def __init__(self, policy: TrafficPolicy, *, remembered_threads: int = 10_000) -> None:
        self.policy = policy
        self._threads: dict[tuple[str, str, str, str], _Thread] = {}
        self._bound = remembered_threads

    def admit(self, inbound: Inbound, peers: Mapping[str, PeerAgent]) -> Inbound:
        """``inbound`` as the engine should get it: from an agent when its author is one of
        ``peers`` (platform user id -> agent), with the thread's hop count and, past the
        policy's limits, without asking for an answer."""
        key = (inbound.platform, inbound.workspace, inbound.channel, inbound.thread)
        peer = peers.get(inbound.author.id)
        if inbound.kind is not InboundKind.MESSAGE:
            return inbound
        if peer is None:
            self._threads.pop(key, None)  # a person spoke: the agents may talk again
            return inbound
        thread = self._threads.pop(key, None) or _Thread()
        self._threads[key] = thread
        while len(self._threads) > self._bound:
            del self._threads[next(iter(self._threads))]
        thread.seen[inbound.message_ref] = None
        while len(thread.seen) > _SEEN_PER_THREAD:
            del thread.seen[next(iter(thread.seen))]
        hops = len(thread.seen)
        author = Author(peer.agent_id, peer.name, is_agent=True, is_bot=True)
        admitted = dataclasses.replace(inbound, author=author, hops=hops)
        if not inbound.respond or peer.agent_id == inbound.agent_id:
            return dataclasses.replace(admitted, respond=False)
        # Answering would add message number ``hops + 1`` to the thread.
        verdict = self.policy.check(
            peer.agent_id, inbound.agent_id, "/".join(key), hops + 1, inbound.text
        )
        return admitted if verdict.allowed else dataclasses.replace(admitted, respond=False)
