"""What the engine and jobs report as they work, for whoever keeps metrics.

The engine knows no metrics library: it calls these hooks, and the bot's Prometheus registry
(``bot.metrics``) implements them. Hooks run on the event loop, so they must be cheap and must
not raise.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol


class Stage(StrEnum):
    """The timed steps of one message's way through the pipeline."""

    #: ``Engine.receive``: admission and the durable inbox write.
    RECEIVE = "receive"
    #: The agent runtime's turn: context, model steps and tools.
    TURN = "turn"
    #: Writing the turn's result: recall, outbox, inbox marks.
    APPLY = "apply"
    #: Posting the turn's replies through the platform.
    DELIVER = "deliver"


class TurnEnd(StrEnum):
    """How a turn attempt ended."""

    #: The agent answered (or chose silence) and the result was applied.
    DONE = "done"
    #: The turn could not answer (the model was unreachable or refused, or every attempt
    #: failed); the user was told.
    FAILED = "failed"
    #: The turn failed and its items wait for a retry.
    RETRIED = "retried"
    #: Stopped part-way (shutdown, lost lease, store error); its items stay pending.
    INTERRUPTED = "interrupted"


class EngineObserver(Protocol):
    def stage_finished(self, stage: Stage, seconds: float) -> None:
        """A stage completed in ``seconds`` (failed stages are not reported)."""
        ...

    def turn_finished(self, end: TurnEnd, seconds: float) -> None:
        """A turn attempt ended after ``seconds``, from taking its items to delivery."""
        ...

    def event_rejected(self, platform: str, reason: str) -> None:
        """An adapter could not read a platform event; it was kept for the operator."""
        ...

    def reply_rated(self, platform: str, rating: str) -> None:
        """Someone rated one of the agent's replies ("good" or "bad")."""
        ...


class SilentObserver:
    """Reports nowhere: the default when nobody keeps metrics."""

    def stage_finished(self, stage: Stage, seconds: float) -> None:
        pass

    def turn_finished(self, end: TurnEnd, seconds: float) -> None:
        pass

    def event_rejected(self, platform: str, reason: str) -> None:
        pass

    def reply_rated(self, platform: str, rating: str) -> None:
        pass
