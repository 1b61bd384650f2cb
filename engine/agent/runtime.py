"""The agent runtime: one turn, from stored user messages to replies (DESIGN §2.4, §4).

Every LLM step is a tool call. The loop chains tools until a terminal tool (``send_message``,
``no_reply``) or the step limit; on its last step only terminal tools are offered, so a turn
always ends with a decision. It never hangs (bounded steps, tool timeouts, the LLM client's
bounded retries) and, when the model stays down, answers with one clear sentence.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from engine.agent.context import (
    CompiledContext,
    ContextCompiler,
    ContextInput,
    ContextOverflow,
    MemoryStats,
    TokenCount,
)
from engine.agent.memory import TurnMemory
from engine.agent.summarizer import Summarizer
from engine.agent.tools import (
    BUILTIN_TOOLS,
    NO_REPLY,
    TERMINAL_TOOLS,
    Searcher,
    Tool,
    ToolOutcome,
    TurnContext,
)
from engine.audience import Audience, AudienceKind
from engine.embeddings import Embedder
from engine.llm import LLMClient, LLMError, LLMRejected, LLMUnavailable
from engine.records import (
    Agent,
    ConversationKey,
    Inbound,
    Message,
    Role,
    Summary,
    ToolCall,
    next_seq,
    utcnow,
)
from engine.store.protocol import InboxItem, RecordFilter, Store
from engine.tool_rules import ToolRuleError, ToolRuleSet
from engine.turns import TurnResult

log = logging.getLogger(__name__)

#: Stored messages loaded to build a window; bounds the cost of a turn whatever the history.
HISTORY_LOAD = 200
TOOL_TIMEOUT = 30.0
LLM_DOWN_REPLY = (
    "Sorry, I can't reach my language model right now, so I couldn't answer this. "
    "Please try again in a few minutes."
)

LLM_KEY_REFUSED_REPLY = (
    "Sorry, I can't answer: my language model service refused my access key. "
    "An operator needs to fix my configuration."
)
NO_ANSWER_REPLY = (
    "Sorry, I couldn't come up with an answer to this. Please try asking again, maybe in "
    "other words."
)
LLM_REJECTED_REPLY = (
    "Sorry, my language model refused this request, so I couldn't answer it. "
    "An operator can find the reason in my logs."
)

CONTEXT_TOO_SMALL_REPLY = (
    "Sorry, I can't answer: my context budget is too small for my instructions and memory. "
    "An operator needs to raise it."
)

DEFAULT_SYSTEM_PROMPT = """\
You are {name}, a helpful assistant with long-term memory, talking with people on chat platforms.

How you work:
- Every step you take is a tool call. Answer with send_message; call no_reply when nothing \
needs an answer from you (for example in a busy channel where you were not addressed).
- Your core memory blocks are always in view. When you learn something lasting about a person \
(their name, preferences, projects, plans), record it in the human block; facts about this \
channel go in the channel block; your own identity is the persona block. Keep blocks short: \
put details in archival memory.
- When someone refers to something not in view, search first: conversation_search for past \
messages, archival_memory_search for kept facts. Never invent memories.
- Memory follows the audience: what you learn in a direct message stays private to that \
person, and you never reveal one person's private details to others.
- Keep replies concise and natural; use the language of the person you answer.
"""


class ToolProvider(Protocol):
    """A source of tools beyond the built-ins: sandboxed custom tools, agent messaging."""

    async def tools_for(self, agent: Agent) -> Mapping[str, Tool]: ...


@dataclass(frozen=True, slots=True)
class RuntimeLimits:
    tool_timeout: float = TOOL_TIMEOUT
    history_load: int = HISTORY_LOAD


class AgentRuntime:
    """Runs turns for every agent of a store; implements ``engine.turns.TurnRunner``."""

    def __init__(
        self,
        store: Store,
        llm: LLMClient,
        tokens: Callable[[str], TokenCount],
        search: Searcher,
        embedder: Embedder,
        *,
        clock: Callable[[], datetime] = utcnow,
        tool_providers: Sequence[ToolProvider] = (),
        limits: RuntimeLimits | None = None,
    ) -> None:
        self._store = store
        self._llm = llm
        self._tokens = tokens
        self._compilers: dict[str, ContextCompiler] = {}
        self._summarizer = Summarizer(llm, tokens)
        self._search = search
        self._embedder = embedder
        self._clock = clock
        self._tool_providers = tuple(tool_providers)
        self._limits = limits or RuntimeLimits()

    # -- TurnRunner ------------------------------------------------------------------------------

    async def run(self, items: Sequence[InboxItem]) -> TurnResult:
        last = items[-1].inbound
        agent = await self._store.agents.get(last.agent_id)
        if agent is None:
            log.warning("inbox items for unknown agent %s skipped", last.agent_id)
            return TurnResult((), ())
        await self.remember_inbound(agent, items)
        if not any(item.inbound.respond for item in items):
            return TurnResult((), ())
        turn = _Turn(self, agent, items)
        return await turn.run()

    async def remember_inbound(self, agent: Agent, items: Sequence[InboxItem]) -> None:
        """Store the items' messages in recall (idempotent: message id = inbox item id)."""
        messages = [user_message(agent, item) for item in items]
        await self._store.messages.append(messages)
        await self._search.index_messages(messages)

    # -- context -----------------------------------------------------------------------------------

    async def tools_for(self, agent: Agent) -> dict[str, Tool]:
        """The agent's tools: its built-ins, then what the providers offer under its names."""
        tools: dict[str, Tool] = {
            name: BUILTIN_TOOLS[name] for name in agent.tools if name in BUILTIN_TOOLS
        }
        for provider in self._tool_providers:
            offered = await provider.tools_for(agent)
            tools.update({name: tool for name, tool in offered.items() if name in agent.tools})
        for name in TERMINAL_TOOLS:
            tools.setdefault(name, BUILTIN_TOOLS[name])
        return tools

    async def compile(
        self,
        agent: Agent,
        memory: TurnMemory,
        conversation: ConversationKey,
        current: Sequence[Message],
        tools: Sequence[Tool],
        rules: str = "",
    ) -> CompiledContext:
        """The exact request the agent's next step sends, fitting its budget.

        Folds evicted messages into the conversation summary (or drops them, when the agent's
        overflow policy is "truncate") and recompiles until the window fits.
        """
        where = RecordFilter.for_audience(agent.id, memory.audience)
        summaries = self._store.summaries
        blocks, stats, summary = await asyncio.gather(
            memory.load(), self._stats(where), summaries.get(conversation)
        )
        audience = memory.audience
        for attempt in range(4):
            if attempt:
                summary = await summaries.get(conversation)
            summary = _readable_summary(summary, audience)
            after = summary.through_seq if summary else 0
            # A conversation keeps its key when its channel changes audience (a private
            # channel opened to everyone): only what this audience may read enters the window.
            history = [
                m
                for m in await self._store.messages.recent(
                    conversation, after, self._limits.history_load
                )
                if audience.can_read(m.workspace, m.scope)
            ]
            # Messages of this turn already stored (its user messages) come from history.
            stored = {m.id for m in history}
            compiled = self._compiler(agent.model).compile(
                ContextInput(
                    system_prompt=agent.system_prompt
                    or DEFAULT_SYSTEM_PROMPT.format(name=agent.name),
                    rules=rules,
                    audience=memory.audience,
                    speaker_name=memory.speaker_name,
                    channel_name=memory.channel_name,
                    blocks=blocks,
                    stats=stats,
                    summary=summary.text if summary else "",
                    history=history,
                    current=[m for m in current if m.id not in stored],
                    tools=[t.schema() for t in tools],
                    budget=agent.context_budget,
                    now=self._clock(),
                )
            )
            if not compiled.evicted:
                return compiled
            await self._fold(agent, conversation, memory, summary, compiled.evicted)
        return compiled

    def _compiler(self, model: str) -> ContextCompiler:
        compiler = self._compilers.get(model)
        if compiler is None:
            compiler = self._compilers[model] = ContextCompiler(self._tokens(model))
        return compiler

    async def _fold(
        self,
        agent: Agent,
        conversation: ConversationKey,
        memory: TurnMemory,
        summary: Summary | None,
        evicted: Sequence[Message],
    ) -> None:
        previous = summary.text if summary else ""
        text = previous
        if agent.overflow == "summarize":
            try:
                text = await self._summarizer.summarize(agent, previous, evicted)
            except LLMError as exc:
                log.warning("summary of %s failed (%s); truncating instead", conversation, exc)
        updated = Summary(
            agent_id=conversation.agent_id,
            workspace=conversation.workspace,
            channel=conversation.channel,
            thread=conversation.thread,
            scope=memory.audience.write_scope,
            text=text,
            through_seq=evicted[-1].seq,
            version=(summary.version + 1) if summary else 1,
            updated_at=self._clock(),
        )
        # Losing this race is fine: the winner folded the same or newer messages.
        await self._store.summaries.put(updated, summary.version if summary else 0)

    async def _stats(self, where: RecordFilter) -> MemoryStats:
        messages, passages, tags = await asyncio.gather(
            self._store.messages.count(where),
            self._store.passages.count(where),
            self._store.passages.tag_counts(where),
        )
        return MemoryStats(messages, passages, tags)

    async def call_tool(self, tool: Tool, ctx: TurnContext, call: ToolCall) -> ToolOutcome:
        try:
            async with asyncio.timeout(self._limits.tool_timeout):
                return await tool.invoke(ctx, call.arguments)
        except TimeoutError:
            return ToolOutcome(
                f"Error: {call.name} did not finish within {self._limits.tool_timeout:g} s.",
                error=True,
            )
        except LLMError:
            raise
        except Exception as exc:
            log.exception("tool %s failed", call.name)
            return ToolOutcome(f"Error: {call.name} failed: {type(exc).__name__}.", error=True)


class _Turn:
    """State of one turn: the produced messages, replies and tool history."""

    def __init__(self, runtime: AgentRuntime, agent: Agent, items: Sequence[InboxItem]) -> None:
        self.runtime = runtime
        self.agent = agent
        self.items = items
        self.inbound = items[-1].inbound
        self.anchor = items[-1].id
        self.produced: list[Message] = []

    def _message(
        self,
        role: Role,
        content: str,
        tool_calls: tuple[ToolCall, ...] = (),
        tool_call_id: str = "",
    ) -> Message:
        mine = role is Role.ASSISTANT
        return Message(
            id=f"{self.anchor}.{len(self.produced) + 1:03d}",
            agent_id=self.agent.id,
            workspace=self.inbound.workspace,
            channel=self.inbound.channel,
            thread=self.inbound.thread,
            scope=self.inbound.audience.write_scope,
            role=role,
            author=self.agent.id if mine else "",
            author_name=self.agent.name if mine else "",
            content=content,
            seq=next_seq(),
            created_at=self.runtime._clock(),
            tool_calls=tool_calls,
            tool_call_id=tool_call_id,
            turn_id=self.anchor,
        )

    async def run(self) -> TurnResult:
        runtime, agent, inbound = self.runtime, self.agent, self.inbound
        memory = TurnMemory(
            runtime._store.blocks,
            agent,
            inbound.audience,
            speaker=inbound.author.id,
            speaker_name=inbound.author.name,
            channel_name=channel_label(inbound),
            shared=agent.shared_blocks,
        )
        ctx = TurnContext(
            agent=agent,
            audience=inbound.audience,
            speaker=inbound.author,
            memory=memory,
            store=runtime._store,
            search=runtime._search,
            embedder=runtime._embedder,
            now=runtime._clock(),
            inbound=inbound,
        )
        tools = await runtime.tools_for(agent)
        try:
            await self._loop(ctx, tools)
        except LLMUnavailable as exc:
            log.warning("turn %s: %s", self.anchor, exc)
            return TurnResult((LLM_DOWN_REPLY,), ())
        except LLMRejected as exc:
            # Asking again would be refused the same way: the user hears now, the operator
            # gets what to change.
            log.error("turn %s: agent %s: %s", self.anchor, agent.name, rejection_advice(exc))
            refused_key = exc.status in (401, 403)
            return TurnResult((LLM_KEY_REFUSED_REPLY if refused_key else LLM_REJECTED_REPLY,), ())
        except ContextOverflow as exc:
            log.error("turn %s: agent %s: %s", self.anchor, agent.name, exc)
            return TurnResult((CONTEXT_TOO_SMALL_REPLY,), ())
        return TurnResult(tuple(ctx.replies), tuple(self.produced))

    async def _loop(self, ctx: TurnContext, tools: Mapping[str, Tool]) -> None:
        ended = await self._steps(ctx, tools)
        if not ended and not ctx.replies:
            # The user asked and the model never answered: say so rather than stay mute.
            log.warning("turn %s: agent %s ended without a reply", self.anchor, self.agent.name)
            ctx.replies.append(NO_ANSWER_REPLY)

    async def _steps(self, ctx: TurnContext, tools: Mapping[str, Tool]) -> bool:
        """Whether the turn ended as the agent chose (a terminal tool or a text answer)."""
        runtime, agent, memory = self.runtime, self.agent, ctx.memory
        rules = rules_for(agent, tools)
        history: list[tuple[str, str]] = []
        empty_answers = 0
        for step in range(agent.max_steps):
            offered = offered_tools(agent, tools, rules, history, step)
            compiled = await runtime.compile(
                agent, memory, self.inbound.conversation, self.produced, offered, rules.render()
            )
            ctx.in_view = compiled.in_view
            completion = await runtime._llm.complete(agent.model, compiled.messages, compiled.tools)
            if not completion.tool_calls:
                text = (completion.text or "").strip()
                # A server that ignored tool_choice answered in plain text: that is the reply.
                if text:
                    ctx.replies.append(text)
                    self.produced.append(self._message(Role.ASSISTANT, text))
                    return True
                # No choice, or neither text nor a tool call: ask once more, then give up.
                empty_answers += 1
                log.warning("turn %s: the model gave an empty answer", self.anchor)
                if empty_answers > 1:
                    return False
                continue
            calls = completion.tool_calls
            self.produced.append(
                self._message(Role.ASSISTANT, completion.text or "", tool_calls=calls)
            )
            finished = False
            for call in calls:
                outcome, ran = await self._call(call, ctx, tools, rules, history)
                self.produced.append(self._message(Role.TOOL, outcome.output, tool_call_id=call.id))
                ended = not outcome.error and rules.is_terminal(call.name)
                # A terminal tool that failed (bad arguments) did not end the turn: the model
                # may call it again, so it stays out of what the rules see as done.
                if ran and (ended or not rules.is_terminal(call.name)):
                    history.append((call.name, outcome.output))
                finished = finished or ended
            if finished:
                return True
        log.info("turn %s reached the step limit of %d", self.anchor, agent.max_steps)
        return False

    async def _call(
        self,
        call: ToolCall,
        ctx: TurnContext,
        tools: Mapping[str, Tool],
        rules: ToolRuleSet,
        history: Sequence[tuple[str, str]],
    ) -> tuple[ToolOutcome, bool]:
        """The call's outcome, and whether it ran (refused calls don't count for the rules)."""
        tool = tools.get(call.name)
        if tool is None:
            available = ", ".join(sorted(tools))
            unknown = f"Error: there is no tool called {call.name!r}; available: {available}."
            return ToolOutcome(unknown, error=True), False
        refusal = rules.check(call.name, history)
        if refusal is not None:
            return ToolOutcome(refusal, error=True), False
        return await self.runtime.call_tool(tool, ctx, call), True


def rejection_advice(exc: LLMRejected) -> str:
    """The refusal, and the setting that most likely needs changing."""
    match exc.status:
        case 401 | 403:
            hint = "check OPENAI_API_KEY (and that OPENAI_BASE_URL is the server it belongs to)"
        case 404:
            hint = "check the agent's model (MNEMO_MODEL or the agents file) and OPENAI_BASE_URL"
        case _:
            hint = "the request was not retried"
    return f"{exc}; {hint}"


def rules_for(agent: Agent, tools: Mapping[str, Tool]) -> ToolRuleSet:
    """The agent's tool rules over the tools it has (ignored, loudly, when inconsistent)."""
    ending = [name for name, tool in tools.items() if tool.terminal]
    try:
        return ToolRuleSet(agent.tool_rules, list(tools), ending_tools=ending)
    except ToolRuleError as exc:
        log.error("agent %s: tool rules ignored: %s", agent.name, exc)
        return ToolRuleSet((), list(tools), ending_tools=ending)


def offered_tools(
    agent: Agent,
    tools: Mapping[str, Tool],
    rules: ToolRuleSet,
    history: Sequence[tuple[str, str]],
    step: int,
) -> list[Tool]:
    """The tools a step offers: what the rules allow after ``history``; on the last step only
    tools that end the turn, so every turn ends with a decision."""
    allowed = rules.allowed_next(history)
    if step == agent.max_steps - 1:
        ending = frozenset(name for name, tool in tools.items() if tool.terminal)
        allowed = frozenset(n for n in allowed if rules.is_terminal(n)) or ending
    return [tool for name, tool in tools.items() if name in allowed]


def _readable_summary(summary: Summary | None, audience: Audience) -> Summary | None:
    """``summary`` with its text left out when it was written for another audience; its
    version and position stay, so folding more messages into it still compares-and-sets."""
    if summary is None or audience.can_read(summary.workspace, summary.scope):
        return summary
    return replace(summary, text="")


def channel_label(inbound: Inbound) -> str:
    if inbound.audience.kind is AudienceKind.DM:
        return "direct messages"
    return inbound.channel_name or inbound.channel


def user_message(agent: Agent, item: InboxItem) -> Message:
    inbound = item.inbound
    return Message(
        id=item.id,
        agent_id=agent.id,
        workspace=inbound.workspace,
        channel=inbound.channel,
        thread=inbound.thread,
        scope=inbound.audience.write_scope,
        role=Role.USER,
        author=inbound.author.id,
        author_name=inbound.author.name,
        content=inbound.text,
        seq=item.seq,
        created_at=inbound.sent_at,
        platform_ref=inbound.message_ref,
        turn_id=item.id,
    )


__all__ = [
    "DEFAULT_SYSTEM_PROMPT",
    "NO_REPLY",
    "AgentRuntime",
    "RuntimeLimits",
    "ToolProvider",
    "offered_tools",
    "rules_for",
]
