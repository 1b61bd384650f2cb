"""The pipeline's timings and limits, in one place so tests and benchmarks can tighten them."""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.backoff import Backoff


@dataclass(frozen=True, slots=True)
class PipelineSettings:
    #: Conversations served at once by this process.
    worker_limit: int = 32
    #: Seconds a conversation lease lives without renewal (a crashed process's conversations
    #: are taken over after this); renewed every third of it while a turn runs.
    lease_ttl: float = 30.0
    #: Seconds between store polls for work written by other processes (or missed wake-ups).
    poll_interval: float = 1.0
    #: Pending items of one conversation folded into one turn at most.
    batch_limit: int = 20
    #: Attempts of a turn before its items are marked failed and the user is told.
    max_attempts: int = 5
    turn_retry: Backoff = field(default_factory=lambda: Backoff(base=1.0, ceiling=60.0))
    turn_timeout: float = 300.0
    #: Deliveries are retried until they succeed or the platform says the error is permanent.
    delivery_retry: Backoff = field(default_factory=lambda: Backoff(base=1.0, ceiling=300.0))
    delivery_timeout: float = 30.0
    #: Replies delivered at once across conversations (one at a time within one).
    delivery_limit: int = 16
    #: Seconds ``Engine.stop`` lets running turns finish before cancelling them.
    stop_deadline: float = 10.0
    #: Seconds between looks for forgets left undone after the turn they landed in (its
    #: redo failed, or its process stopped first): a forget never waits for a restart.
    forget_sweep_interval: float = 60.0
