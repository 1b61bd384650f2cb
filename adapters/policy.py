"""When an agent hears and answers a channel; the same three policies on every platform."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class ChannelPolicy(StrEnum):
    """Direct messages are always answered; channels follow one of these.

    ``mention``: only messages that mention the bot are remembered and answered.
    ``listen``: every message is remembered; the agent answers when mentioned.
    ``open``: every message is remembered and may be answered (the agent may stay silent).
    """

    MENTION = "mention"
    LISTEN = "listen"
    OPEN = "open"


@dataclass(frozen=True, slots=True)
class ChannelPolicies:
    """One bot's policies: a default and overrides by channel (or thread) id."""

    default: ChannelPolicy = ChannelPolicy.MENTION
    overrides: Mapping[str, ChannelPolicy] = field(default_factory=dict)

    def policy_of(self, places: tuple[str, ...]) -> ChannelPolicy:
        """The policy of the first of ``places`` (most specific first: a thread, then its
        channel) that has its own entry, else the default."""
        for place in places:
            if place in self.overrides:
                return self.overrides[place]
        return self.default
