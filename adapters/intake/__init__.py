"""The adapters' one intake chain: small named steps deciding, in order, whether a platform
event is for the agent and whether it asks for an answer, shared by every platform."""

from adapters.intake.arrival import Arrival, IntakeStep, NextStep, ignored
from adapters.intake.chain import BotHearing, IntakeChain, bot_intake, hearing_steps, intake_chain
from adapters.intake.evidence import evidence_of
from adapters.intake.steps import (
    FollowChannelPolicy,
    IgnoreOtherBots,
    IgnoreOwnMessages,
    ServedChannelsOnly,
)
from adapters.intake.traffic import ChannelTraffic, PeerAgentTraffic

__all__ = [
    "Arrival",
    "BotHearing",
    "ChannelTraffic",
    "FollowChannelPolicy",
    "IgnoreOtherBots",
    "IgnoreOwnMessages",
    "IntakeChain",
    "IntakeStep",
    "NextStep",
    "PeerAgentTraffic",
    "ServedChannelsOnly",
    "bot_intake",
    "evidence_of",
    "hearing_steps",
    "ignored",
    "intake_chain",
]
