"""The agent's tool loop: LLM step -> tool calls -> results, until the agent decides.

Every LLM step is a tool call. The loop chains tools until a terminal tool or the step limit;
on its last step only terminal tools are offered, so a run always ends with a decision. Tool
rules decide what a step offers and refuse calls out of order; a failing tool becomes a tool
error the model reads. Live turns and background memory passes both run on it, each with its
own request, tools and step limit.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import KW_ONLY, dataclass, replace

from engine.llm import ChatModel, ChatRequest, LLMError
from engine.records import Message, Role, ToolCall, ToolRule
from engine.streaming import step_listener
from engine.tools.base import Tool, ToolContext, ToolOutcome
from engine.tools.rules import ToolRuleError, ToolRuleSet

log = logging.getLogger(__name__)

TOOL_TIMEOUT = 30.0

#: The request a step sends, given the tools it offers, the rules in words and the messages
#: the run produced so far.
type RequestBuilder = Callable[[Sequence[Tool], str, Sequence[Message]], Awaitable[ChatRequest]]
#: Makes one produced message: role, content, tool calls, the tool call it answers.
type Recorder = Callable[[Role, str, tuple[ToolCall, ...], str], Message]
#: A call that ran (refused calls don't count for the rules): its tool and output.
type RanCall = tuple[str, str]


def tool_rules(
    rules: Sequence[ToolRule], tools: Mapping[str, Tool], owner: str = ""
) -> ToolRuleSet:
    """``rules`` over ``tools`` (ignored, loudly, when inconsistent)."""
    ending = [name for name, tool in tools.items() if tool.terminal]
    try:
        return ToolRuleSet(rules, list(tools), ending_tools=ending)
    except ToolRuleError as exc:
        log.error("agent %s: tool rules ignored: %s", owner, exc)
        return ToolRuleSet((), list(tools), ending_tools=ending)


def offered_tools(
    tools: Mapping[str, Tool],
    rules: ToolRuleSet,
    history: Sequence[RanCall],
    step: int,
    max_steps: int,
) -> list[Tool]:
    """The tools a step offers: what the rules allow after ``history``; on the last step only
    tools that end the run, so every run ends with a decision."""
    allowed = rules.allowed_next(history)
    if step == max_steps - 1:
        ending = frozenset(name for name, tool in tools.items() if tool.terminal)
        allowed = frozenset(n for n in allowed if rules.is_terminal(n)) or ending
    return [tool for name, tool in tools.items() if name in allowed]


async def call_tool(tool: Tool, ctx: ToolContext, call: ToolCall, limit_s: float) -> ToolOutcome:
    """One tool call, bounded in time; any failure but the model's becomes a tool error."""
    try:
        async with asyncio.timeout(limit_s):
            return await tool.invoke(ctx, call.arguments)
    except TimeoutError:
        return ToolOutcome(f"Error: {call.name} did not finish within {limit_s:g} s.", error=True)
    except LLMError:
        raise
    except Exception as exc:
        log.exception("tool %s failed", call.name)
        return ToolOutcome(f"Error: {call.name} failed: {type(exc).__name__}.", error=True)


@dataclass(frozen=True, slots=True)
class LoopEnd:
    """What one run did and how it ended."""

    #: Whether the agent ended the run itself (a terminal tool or a text answer).
    decided: bool
    #: The messages the run produced (assistant steps and tool results), in order.
    produced: tuple[Message, ...]
    #: Every call the model made, with its outcome.
    calls: tuple[tuple[ToolCall, ToolOutcome], ...]
    #: The model's plain-text answer, when it gave one instead of a tool call.
    answer: str = ""


@dataclass(frozen=True, slots=True)
class ToolLoop:
    """The agent's tool loop over one set of tools; each ``run`` is independent."""

    model: ChatModel
    ctx: ToolContext
    tools: Mapping[str, Tool]
    rules: ToolRuleSet
    _: KW_ONLY
    request: RequestBuilder
    record: Recorder
    max_steps: int
    tool_timeout: float = TOOL_TIMEOUT
    label: str = ""

    async def run(self) -> LoopEnd:
        rules = self.rules
        produced: list[Message] = []
        calls: list[tuple[ToolCall, ToolOutcome]] = []
        ran: list[RanCall] = []
        empty_answers = 0

        def add(
            role: Role, content: str, tool_calls: tuple[ToolCall, ...] = (), answers: str = ""
        ) -> None:
            produced.append(self.record(role, content, tool_calls, answers))

        def end(decided: bool, answer: str = "") -> LoopEnd:
            return LoopEnd(decided, tuple(produced), tuple(calls), answer)

        for step in range(self.max_steps):
            offered = offered_tools(self.tools, rules, ran, step, self.max_steps)
            request = await self.request(offered, rules.render(), produced)
            # A live turn's replies are shown as the model writes them, where they can be.
            listener = step_listener(self.ctx.replies)
            if listener is not None:
                request = replace(request, listener=listener)
            completion = await self.model.complete(request)
            if not completion.tool_calls:
                text = (completion.text or "").strip()
                # A server that ignored tool_choice answered in plain text: that is the answer.
                if text:
                    add(Role.ASSISTANT, text)
                    return end(decided=True, answer=text)
                # No choice, or neither text nor a tool call: ask once more, then give up.
                empty_answers += 1
                log.warning("%s: the model gave an empty answer", self.label)
                if empty_answers > 1:
                    return end(decided=False)
                continue
            add(Role.ASSISTANT, completion.text or "", completion.tool_calls)
            finished = False
            for call in completion.tool_calls:
                outcome, did_run = await self._call(call, ran)
                calls.append((call, outcome))
                add(Role.TOOL, outcome.output, answers=call.id)
                ended = not outcome.error and rules.is_terminal(call.name)
                # A terminal tool that failed (bad arguments) did not end the run: the model
                # may call it again, so it stays out of what the rules see as done.
                if did_run and (ended or not rules.is_terminal(call.name)):
                    ran.append((call.name, outcome.output))
                finished = finished or ended
            if finished:
                return end(decided=True)
        log.info("%s reached the step limit of %d", self.label, self.max_steps)
        return end(decided=False)

    async def _call(self, call: ToolCall, ran: Sequence[RanCall]) -> tuple[ToolOutcome, bool]:
        """The call's outcome, and whether it ran."""
        tool = self.tools.get(call.name)
        if tool is None:
            available = ", ".join(sorted(self.tools))
            unknown = f"Error: there is no tool called {call.name!r}; available: {available}."
            return ToolOutcome(unknown, error=True), False
        refusal = self.rules.check(call.name, ran)
        if refusal is not None:
            return ToolOutcome(refusal, error=True), False
        return await call_tool(tool, self.ctx, call, self.tool_timeout), True
