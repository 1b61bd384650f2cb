"""A job's model access: tokens counted per run, refused past the budget, live traffic first."""

from __future__ import annotations

import asyncio
import time

import pytest

from engine.llm import ChatRequest, Completion, Usage
from jobs.budget import BudgetedModel, BudgetExhausted


class ScriptedModel:
    def __init__(self, usage: Usage) -> None:
        self.usage = usage
        self.calls = 0

    async def complete(self, request: ChatRequest) -> Completion:
        self.calls += 1
        return Completion((), "ok", self.usage, request.model)


MESSAGES = [{"role": "user", "content": "x" * 400}]  # about 100 tokens by estimate


async def test_tokens_are_counted_and_a_call_past_the_budget_is_refused() -> None:
    llm = ScriptedModel(Usage(prompt_tokens=300, completion_tokens=50))
    model = BudgetedModel(llm, budget=500)
    await model.complete(ChatRequest("m", MESSAGES))
    assert (model.used, model.left) == (350, 150)
    with pytest.raises(BudgetExhausted, match="spent 350 of 500"):
        await model.complete(ChatRequest("m", [{"role": "user", "content": "x" * 800}]))
    assert llm.calls == 1


async def test_a_server_that_reports_no_usage_is_charged_the_estimate() -> None:
    model = BudgetedModel(ScriptedModel(Usage()), budget=1000)
    await model.complete(ChatRequest("m", MESSAGES))
    assert 90 < model.used < 130


async def test_calls_wait_while_live_messages_are_pending() -> None:
    pending = [2]

    async def backlog() -> int:
        pending[0] = max(0, pending[0] - 1)
        return pending[0]

    llm = ScriptedModel(Usage(10, 1))
    model = BudgetedModel(llm, budget=1000, backlog=backlog, yield_s=5)
    started = time.monotonic()
    await model.complete(ChatRequest("m", MESSAGES))
    assert llm.calls == 1
    assert pending == [0]
    assert time.monotonic() - started >= 0.15  # waited at least one poll for the backlog


async def test_waiting_for_live_traffic_is_bounded() -> None:
    async def always_busy() -> int:
        return 5

    llm = ScriptedModel(Usage(10, 1))
    model = BudgetedModel(llm, budget=1000, backlog=always_busy, yield_s=0.3)
    async with asyncio.timeout(3):
        await model.complete(ChatRequest("m", MESSAGES))
    assert llm.calls == 1
