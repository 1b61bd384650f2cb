"""When one agent may message another: a hop limit per thread, loop detection, a pair rate limit.

Agents that answer each other (by tool or in a channel) could talk forever. Every agent-to-agent
message passes ``TrafficGuard.check`` first, whichever way it travels, so the same three limits
hold for the messaging tools and for agents mentioning each other in Slack or Discord.
"""

from __future__ import annotations

import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

_WORD = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class TrafficLimits:
    #: Agent-to-agent messages one thread may hold; an agent does not answer the last one.
    max_hops: int = 6
    #: Messages one pair of agents may exchange (both ways) per ``rate_window`` seconds.
    pair_rate: int = 20
    rate_window: float = 60.0
    #: Word-set similarity at or above which a message repeats a recent one of the same pair.
    loop_similarity: float = 0.9
    #: Recent messages per pair and thread compared against, for loop detection.
    loop_memory: int = 4
    #: Pairs and threads remembered at most; the least recently used are forgotten first.
    remembered: int = 10_000


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether a message may go; ``reason`` says why not, in words an agent can act on."""

    allowed: bool
    reason: str = ""


ALLOWED = Verdict(True)


def similarity(a: str, b: str) -> float:
    """Jaccard similarity of the two texts' lower-cased word sets (1.0 for two empty texts)."""
    left, right = set(_WORD.findall(a.lower())), set(_WORD.findall(b.lower()))
    if not left and not right:
        return 1.0
    return len(left & right) / len(left | right)


class TrafficGuard:
    """Per-process memory of recent agent-to-agent traffic; the hop count travels with messages.

    Hops are durable (``Inbound.hops``); the rate and loop windows are kept in this process,
    which is enough to stop a runaway pair: every message of a conversation is handled by the
    process holding its lease.
    """

    def __init__(
        self, limits: TrafficLimits | None = None, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limits = limits or TrafficLimits()
        self._clock = clock
        self._sent: dict[frozenset[str], deque[float]] = {}
        self._recent: dict[tuple[str, str, str], deque[str]] = {}

    def check(self, sender: str, recipient: str, thread: str, hops: int, text: str) -> Verdict:
        """May the exchange of ``sender`` and ``recipient`` in ``thread`` go on to its
        ``hops``-th agent message, after ``text``? Records ``text`` when it may."""
        limits = self.limits
        if hops > limits.max_hops:
            return Verdict(
                False,
                f"this thread reached the limit of {limits.max_hops} messages between agents; "
                "answer the people in it instead",
            )
        pair = frozenset((sender, recipient))
        now = self._clock()
        sent = self._sent.setdefault(pair, deque())
        while sent and sent[0] <= now - limits.rate_window:
            sent.popleft()
        if len(sent) >= limits.pair_rate:
            return Verdict(
                False,
                f"these two agents exchanged {len(sent)} messages in the last "
                f"{limits.rate_window:g} s; wait before messaging again",
            )
        recent = self._recent.setdefault((sender, recipient, thread), deque())
        if any(similarity(text, earlier) >= limits.loop_similarity for earlier in recent):
            return Verdict(
                False, "this repeats a recent message to the same agent; the two of you are looping"
            )
        sent.append(now)
        recent.append(text)
        while len(recent) > limits.loop_memory:
            recent.popleft()
        _touch(self._sent, pair, limits.remembered)
        _touch(self._recent, (sender, recipient, thread), limits.remembered)
        return ALLOWED


def _touch[K, V](entries: dict[K, V], key: K, bound: int) -> None:
    """Move ``key`` to the most recent end and forget the oldest entries beyond ``bound``."""
    entries[key] = entries.pop(key)
    while len(entries) > bound:
        del entries[next(iter(entries))]
