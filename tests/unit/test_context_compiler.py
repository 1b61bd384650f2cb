"""The context compiler keeps every request under budget and never splits a tool exchange."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engine.agent.context import (
    ContextCompiler,
    ContextInput,
    ContextOverflow,
    MemoryStats,
    answer_reserve,
)
from engine.agent.memory import BlockView
from engine.audience import Audience, AudienceKind, Scope
from engine.records import Block, Message, Role, ToolCall
from engine.tokens import TokenCounter
from engine.tools.builtin import BUILTIN_TOOLS
from tests.token_accounting import request_tokens as tokens_of_request

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
AUDIENCE = Audience("slack:T1", AudienceKind.DM, "D1", "U1")


def message(i: int, role: Role = Role.USER, **fields: object) -> Message:
    base: dict[str, object] = {
        "id": f"m{i}",
        "agent_id": "a1",
        "workspace": "slack:T1",
        "channel": "D1",
        "thread": "",
        "scope": Scope.dm("U1"),
        "role": role,
        "author": "U1" if role is Role.USER else "a1",
        "author_name": "Alice" if role is Role.USER else "mnemo",
        "content": f"message number {i} about gardening, tomatoes and the weather",
        "seq": i,
        "created_at": T0 + timedelta(minutes=i),
    }
    base.update(fields)
    return Message(**base)  # type: ignore[arg-type]


def context(
    history: list[Message], budget: int, current: list[Message] | None = None
) -> ContextInput:
    part = Block("b1", "a1", "slack:T1", "human", "U1", Scope.workspace(), "Name: Alice", 2000)
    return ContextInput(
        system_prompt="You are a helpful assistant.",
        rules="",
        audience=AUDIENCE,
        speaker_name="Alice",
        channel_name="direct messages",
        blocks=[BlockView("human", "a1", "U1", "Alice", (part,), 2000)],
        stats=MemoryStats(recall_messages=len(history), passages=0),
        summary="",
        history=history,
        current=current or [],
        tools=[BUILTIN_TOOLS["send_message"].schema()],
        budget=budget,
        now=T0 + timedelta(days=1),
    )


@pytest.fixture(scope="module")
def compiler() -> ContextCompiler:
    return ContextCompiler(TokenCounter("gpt-4o-mini"))


def request_tokens(
    compiled_messages: list[dict[str, object]], tools: list[dict[str, object]]
) -> int:
    return tokens_of_request(TokenCounter("gpt-4o-mini"), compiled_messages, tools)


@pytest.mark.parametrize("budget", [1200, 2000, 4000])
def test_request_never_exceeds_budget(compiler: ContextCompiler, budget: int) -> None:
    history = [message(i) for i in range(300)]
    compiled = compiler.compile(context(history, budget))
    assert request_tokens(compiled.messages, compiled.tools) <= budget - answer_reserve(budget)
    assert compiled.evicted, "a long history must evict"
    kept = [m["content"] for m in compiled.messages[1:]]
    assert "message number 299" in str(kept[-1]), "the newest message is always kept"
    assert compiled.evicted[-1].seq < 299


def test_short_history_is_kept_whole(compiler: ContextCompiler) -> None:
    history = [message(i) for i in range(5)]
    compiled = compiler.compile(context(history, 8000))
    assert not compiled.evicted
    assert len(compiled.messages) == 6
    assert "Name: Alice" in compiled.messages[0]["content"]
    assert 'chars="11/2000"' in compiled.messages[0]["content"]


def test_eviction_never_splits_a_tool_call_from_its_result(compiler: ContextCompiler) -> None:
    history: list[Message] = []
    for i in range(0, 240, 3):
        history.append(message(i))
        call = ToolCall(f"c{i}", "send_message", '{"message": "ok ' + "x" * 40 + '"}')
        history.append(message(i + 1, Role.ASSISTANT, content="", tool_calls=(call,)))
        history.append(message(i + 2, Role.TOOL, content="Sent.", tool_call_id=f"c{i}"))
    compiled = compiler.compile(context(history, 1500))
    window = compiled.messages[1:]
    assert window[0]["role"] != "tool"
    for index, chat in enumerate(window):
        if chat["role"] == "tool":
            previous = window[index - 1]
            assert previous["role"] == "assistant"
            assert previous["tool_calls"]


def test_huge_message_is_truncated_to_fit(compiler: ContextCompiler) -> None:
    giant = message(1, content="word " * 20_000)
    compiled = compiler.compile(context([giant], 2000))
    assert request_tokens(compiled.messages, compiled.tools) <= 2000 - answer_reserve(2000)
    assert "truncated to fit" in compiled.messages[-1]["content"]


def test_budget_smaller_than_the_fixed_part_is_a_clear_error(compiler: ContextCompiler) -> None:
    with pytest.raises(ContextOverflow, match="context_budget"):
        compiler.compile(context([message(1)], 200))
