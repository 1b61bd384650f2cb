"""Exponential backoff with a ceiling, shared by turn retries and reply delivery."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Backoff:
    """Seconds to wait before attempt ``n + 1`` after ``n`` failures: base * 2**(n-1), capped."""

    base: float = 1.0
    ceiling: float = 300.0

    def delay(self, failures: int) -> float:
        if failures <= 0:
            return 0.0
        return min(self.ceiling, self.base * 2.0 ** min(failures - 1, 32))
