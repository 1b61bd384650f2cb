"""Agents talking to each other: by tools through the pipeline, and in shared channels, under
one traffic policy (hop limit per thread, loop detection, per-pair rate limit)."""

from engine.messaging.channels import PeerAgent
from engine.messaging.guard import TrafficGuard, TrafficLimits, Verdict
from engine.messaging.mail import PLATFORM, AgentMail, AgentsPort, MessagingRefused
from engine.store.state import MailMode
from engine.tools.messaging import MESSAGING_TOOLS, MessagingTools

__all__ = [
    "MESSAGING_TOOLS",
    "PLATFORM",
    "AgentMail",
    "AgentsPort",
    "MailMode",
    "MessagingRefused",
    "MessagingTools",
    "PeerAgent",
    "TrafficGuard",
    "TrafficLimits",
    "Verdict",
]
