"""Exponential backoff with a ceiling: model retries, turn retries and reply delivery."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Backoff:
    """Seconds to wait before attempt ``n + 1`` after ``n`` failures: base * 2**(n-1), capped."""

    base: float = 1.0
    ceiling: float = 300.0

    def delay(self, failures: int, jitter: random.Random | None = None) -> float:
        """The wait after ``failures`` failures; with ``jitter``, a random 50-100% of it, so
        clients that failed together do not all come back at the same moment."""
        if failures <= 0:
            return 0.0
        wait = min(self.ceiling, self.base * 2.0 ** min(failures - 1, 32))
        return wait * jitter.uniform(0.5, 1.0) if jitter is not None else wait
