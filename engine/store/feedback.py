"""What people said of the agent's replies (a thumbs up or down), kept with the turn.

One rating per person per reply: rating again replaces it. The record names the turn the
reply came from (its messages carry the same ``turn_id``), so consolidation can read how the
people it learns from received what the agent said.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from engine.records import utcnow


class Rating(StrEnum):
    GOOD = "good"
    BAD = "bad"


@dataclass(frozen=True, slots=True)
class Feedback:
    """One person's rating of one reply."""

    reply_id: str
    user: str
    rating: Rating
    agent_id: str
    workspace: str
    channel: str
    #: The turn the reply came from: the inbox id its messages carry as ``turn_id``.
    turn_id: str
    at: datetime = field(default_factory=utcnow)


class FeedbackStore(Protocol):
    async def put(self, feedback: Feedback) -> None:
        """Keep ``feedback``, replacing the same person's earlier rating of the same reply."""

    async def for_turns(self, turn_ids: Sequence[str]) -> list[Feedback]:
        """The ratings of the replies of these turns, oldest first."""

    async def recent(self, limit: int, workspace: str | None = None) -> list[Feedback]:
        """The newest ratings (of ``workspace``, or of every workspace), newest first."""

    async def of_user(self, workspace: str, user: str) -> list[Feedback]:
        """The ratings ``user`` gave in ``workspace``, newest first (their export)."""

    async def delete_user(self, workspace: str, user: str) -> int:
        """Forget every rating ``user`` gave in ``workspace``; how many there were."""
