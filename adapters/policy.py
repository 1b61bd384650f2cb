"""When an agent hears and answers a channel; the same three policies on every platform."""

from __future__ import annotations

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
