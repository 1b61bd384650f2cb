"""What an adapter read from a platform event, as the intake steps see it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from engine import Inbound, ReceiveOutcome, ReceiveResult


@dataclass(frozen=True, slots=True)
class Arrival:
    """A message, edit or deletion as the engine would get it, with the platform facts the
    intake steps decide on. Adapters report facts here; only the steps decide."""

    inbound: Inbound
    #: The platform user id the agent's bot speaks as where the event arrived.
    bot_user: str
    #: Posted by a bot account: an integration, or another agent's bot user.
    from_bot: bool = False
    #: Mentions the agent's bot (user or role) or replies to one of its messages.
    addressed: bool = False
    #: Ids whose channel policy applies, most specific first (a thread, then its channel).
    places: tuple[str, ...] = ()


type NextStep = Callable[[Arrival], Awaitable[ReceiveResult]]


class IntakeStep(Protocol):
    """One decision about an arrival: pass it on (maybe changed) to ``next_step``, or answer
    for it without passing it on."""

    async def process(self, arrival: Arrival, next_step: NextStep) -> ReceiveResult: ...


def ignored(reason: str) -> ReceiveResult:
    """What a step answers for an arrival that is not for the agent."""
    return ReceiveResult(ReceiveOutcome.IGNORED, reason=reason)
