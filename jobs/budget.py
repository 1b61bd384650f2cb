"""A job's model access: a token budget per run, and live traffic first.

Jobs share the process's ``LLMClient`` (its retries and backoff) but never its workers: each
call first waits, up to a bound, while live messages are pending, and a run stops before a
call that would start past its budget.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable

from engine import ChatModel, ChatRequest, Completion

#: Rough characters per token, to refuse a call whose prompt alone would break the budget.
_CHARS_PER_TOKEN = 4
_QUIET_POLL_S = 0.2


class BudgetExhausted(Exception):
    """The run spent its token budget; it stops and the next slot goes on."""


type LiveBacklog = Callable[[], Awaitable[int]]


async def yield_to_live(backlog: LiveBacklog | None, max_wait: float) -> None:
    """Wait while live messages are pending (at most ``max_wait`` seconds)."""
    if backlog is None or max_wait <= 0:
        return
    deadline = time.monotonic() + max_wait
    while time.monotonic() < deadline:
        if await backlog() == 0:
            return
        await asyncio.sleep(_QUIET_POLL_S)


class BudgetedModel:
    """The model for one run: counts the tokens it spends and stops at its budget."""

    def __init__(
        self,
        llm: ChatModel,
        budget: int,
        *,
        backlog: LiveBacklog | None = None,
        yield_s: float = 0.0,
    ) -> None:
        self._llm = llm
        self.budget = budget
        self.used = 0
        self._backlog = backlog
        self._yield_s = yield_s

    @property
    def left(self) -> int:
        return max(0, self.budget - self.used)

    async def complete(self, request: ChatRequest) -> Completion:
        estimate = len(json.dumps([*request.messages, *request.tools])) // _CHARS_PER_TOKEN
        if self.used + estimate > self.budget:
            raise BudgetExhausted(
                f"spent {self.used} of {self.budget} tokens; the next call needs ~{estimate}"
            )
        await yield_to_live(self._backlog, self._yield_s)
        completion = await self._llm.complete(request)
        usage = completion.usage
        spent = usage.prompt_tokens + usage.completion_tokens
        self.used += spent or estimate
        return completion
