"""The agent runtime: every agent of a store, its tools, and its turns (DESIGN §2.4, §4).

It implements the pipeline's ``TurnRunner``: a turn returns the items' user messages, the
messages its steps produced and its replies, and the pipeline stores them. The inspector reads
through it too: a preview of the next request (which writes nothing), the tools a step offers,
and one tool call run as the agent would run it.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from engine.agent.context import CompiledContext, TokenCount
from engine.agent.loop import TOOL_TIMEOUT, call_tool, offered_tools, tool_rules
from engine.agent.memory import TurnMemory
from engine.agent.summarizer import Summarizer
from engine.agent.turn import Turn, TurnServices
from engine.agent.window import HISTORY_LOAD, ContextWindow
from engine.audience import Audience
from engine.citations import PlatformLinks
from engine.embeddings import Embedder
from engine.llm import LLMClient
from engine.model_server import ModelServer
from engine.records import Agent, ConversationKey, Inbound, Message, Outbound, ToolCall, utcnow
from engine.search import HistoryRead
from engine.store.approvals import ApprovalRequest
from engine.store.protocol import Store
from engine.store.queues import InboxItem
from engine.tools.approval import ApprovalPrompts, ungated, with_approvals
from engine.tools.base import Searcher, Tool, ToolOutcome, attached, for_audience
from engine.tools.builtin import BUILTIN_TOOLS, TERMINAL_TOOLS
from engine.tools.rules import approval_required, rules_without
from engine.turns import Replies, TurnResult, user_message

log = logging.getLogger(__name__)


class ToolProvider(Protocol):
    """A source of tools beyond the built-ins: sandboxed custom tools, agent messaging."""

    async def tools_for(self, agent: Agent) -> Mapping[str, Tool]: ...


@dataclass(frozen=True, slots=True)
class RuntimeLimits:
    tool_timeout: float = TOOL_TIMEOUT
    history_load: int = HISTORY_LOAD


@dataclass(frozen=True, slots=True)
class ToolTrial:
    """One tool call run outside a turn: its outcome and the replies it would have sent."""

    outcome: ToolOutcome
    replies: tuple[Outbound, ...]


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
        links: PlatformLinks | None = None,
        approval_prompts: ApprovalPrompts | None = None,
    ) -> None:
        limits = limits or RuntimeLimits()
        #: Where tools that need approval ask for it; platforms register their prompters.
        self.approval_prompts = approval_prompts or ApprovalPrompts()
        #: What the model endpoint says about itself (its models' context windows).
        self.model_server = ModelServer(llm)
        window = ContextWindow(
            store,
            tokens,
            Summarizer(llm, tokens),
            clock,
            limits.history_load,
            window_of=self.model_server.context_window,
        )
        self._turns = TurnServices(
            store, search, embedder, llm, window, clock, limits.tool_timeout, links
        )
        self._tool_providers = tuple(tool_providers)

    # -- TurnRunner ------------------------------------------------------------------------------

    async def run(self, items: Sequence[InboxItem], agent: Agent | None = None) -> TurnResult:
        last = items[-1].inbound
        agent = agent or await self._turns.store.agents.get(last.agent_id)
        if agent is None:
            log.warning("inbox items for unknown agent %s skipped", last.agent_id)
            return TurnResult((), ())
        if not any(item.inbound.respond for item in items):
            return TurnResult(tuple(user_message(item) for item in items), ())
        agent, tools = self._heard_by(agent, await self.tools_for(agent), last.audience)
        return await Turn(self._turns, agent, items).run(tools)

    async def message_embeddings(
        self, messages: Sequence[Message], seen: HistoryRead | None = None
    ) -> list[tuple[str, list[float]]]:
        return await self._turns.search.message_embeddings(messages, seen)

    # -- tools -----------------------------------------------------------------------------------

    async def tools_for(self, agent: Agent) -> dict[str, Tool]:
        """The agent's tools: its built-ins, then what the providers offer under its names."""
        tools: dict[str, Tool] = {
            name: BUILTIN_TOOLS[name] for name in agent.tools if name in BUILTIN_TOOLS
        }
        for provider in self._tool_providers:
            offered = await provider.tools_for(agent)
            tools.update(
                {name: tool for name, tool in offered.items() if attached(agent.tools, name)}
            )
        for name in TERMINAL_TOOLS:
            tools.setdefault(name, BUILTIN_TOOLS[name])
        required = approval_required(agent.tool_rules)
        return with_approvals(tools, required, self.approval_prompts)

    async def first_step_tools(
        self, agent: Agent, audience: Audience | None = None
    ) -> tuple[list[Tool], str]:
        """The tools a turn's first step offers (heard by ``audience``, when given), and the
        agent's tool rules in words."""
        tools = await self.tools_for(agent)
        if audience is not None:
            agent, tools = self._heard_by(agent, tools, audience)
        rules = tool_rules(agent.tool_rules, tools, agent.name)
        return offered_tools(tools, rules, (), 0, agent.max_steps), rules.render()

    @staticmethod
    def _heard_by(
        agent: Agent, tools: Mapping[str, Tool], audience: Audience
    ) -> tuple[Agent, dict[str, Tool]]:
        """The tools ``audience`` may be offered, and the agent with only the tool rules that
        still apply to them."""
        offered = for_audience(tools, audience)
        hidden = tools.keys() - offered.keys()
        if hidden:
            agent = dataclasses.replace(agent, tool_rules=rules_without(agent.tool_rules, hidden))
        return agent, offered

    async def try_tool(
        self, agent: Agent, call: ToolCall, inbound: Inbound, memory: TurnMemory
    ) -> ToolTrial | None:
        """Run one call as ``agent`` would while answering ``inbound``, with ``memory`` as its
        core memory; replies are returned, never sent. None when the agent lacks the tool."""
        tool = for_audience(await self.tools_for(agent), inbound.audience).get(call.name)
        if tool is None:
            return None
        replies = Replies(call.id, inbound, self._turns.clock)
        ctx = self._turns.context(agent, inbound, replies)
        ctx.memory = memory
        outcome = await call_tool(tool, ctx, call, self._turns.tool_timeout)
        return ToolTrial(outcome, replies.sent)

    async def run_approved(self, request: ApprovalRequest) -> ToolOutcome:
        """Run an approved call as its agent would have in the paused turn: with the saved
        arguments, under the audience of the message that turn answered."""
        agent = await self._turns.store.agents.get(request.agent_id)
        inbound = request.inbound
        tools = for_audience(await self.tools_for(agent), inbound.audience) if agent else {}
        tool = tools.get(request.tool)
        if agent is None or tool is None:
            return ToolOutcome(f"Error: {request.tool} is no longer available.", error=True)
        ctx = self._turns.context(agent, inbound, Replies(request.id, inbound, self._turns.clock))
        ctx.provenance.read([request.source])
        call = ToolCall(request.id, request.tool, request.arguments)
        outcome = await call_tool(ungated(tool), ctx, call, self._turns.tool_timeout)
        await ctx.provenance.write(self._turns.store.lineage, inbound.workspace)
        return outcome

    # -- context ---------------------------------------------------------------------------------

    async def preview(
        self, agent: Agent, memory: TurnMemory, conversation: ConversationKey
    ) -> CompiledContext:
        """The request the conversation's next turn would send first, compiled without
        writing anything (messages it would fold into the summary are left out)."""
        offered, rules = await self.first_step_tools(agent, memory.audience)
        return await self._turns.window.compile(
            agent, memory, conversation, (), offered, rules, fold=False
        )


__all__ = ["AgentRuntime", "RuntimeLimits", "ToolProvider", "ToolTrial"]
