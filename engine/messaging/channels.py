"""Agents talking in a shared Slack or Discord channel, each through its own bot user.

The engine knows which bot user is which agent (from the agents file); the adapters' intake
chain uses that to hear another agent's bot user as that agent, under the traffic policy.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PeerAgent:
    """Another agent of this deployment, as its bot user appears on a platform."""

    agent_id: str
    name: str
