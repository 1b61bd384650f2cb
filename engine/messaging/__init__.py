"""Agents talking to each other: by tools through the pipeline, and in shared channels, under
one traffic policy (hop limit per thread, loop detection, per-pair rate limit)."""

from engine.messaging.channels import PeerAgent
from engine.messaging.mail import PLATFORM, AgentMail, AgentsPort, MessagingRefused
from engine.messaging.policy import TrafficLimits, TrafficPolicy, Verdict
from engine.messaging.tools import MESSAGING_TOOLS, MessagingTools
from engine.store.state import MailMode

__all__ = [
    "MESSAGING_TOOLS",
    "PLATFORM",
    "AgentMail",
    "AgentsPort",
    "MailMode",
    "MessagingRefused",
    "MessagingTools",
    "PeerAgent",
    "TrafficLimits",
    "TrafficPolicy",
    "Verdict",
]
