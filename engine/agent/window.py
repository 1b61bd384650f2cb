"""Context assembly: the exact request an agent's next step sends, fitted to its budget.

A turn's compile folds the messages that no longer fit into the conversation summary (or
drops them, when the agent's overflow policy is "truncate") and compiles again; a preview
compiles the same request and writes nothing. Nothing leaves the window without entering the
summary: when more messages follow the summary than a turn loads, the older ones are folded
too. The budget never exceeds the model's context window, where the agent or its server
states one.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime

from engine.agent.context import (
    CompiledContext,
    ContextCompiler,
    ContextInput,
    MemoryStats,
    TokenCount,
)
from engine.agent.memory import TurnMemory
from engine.agent.prompts import DEFAULT_SYSTEM_PROMPT
from engine.agent.summarizer import Summarizer
from engine.audience import Audience, Scope
from engine.llm import LLMError
from engine.records import Agent, ConversationKey, Message, Role, Summary
from engine.search import HistoryRead
from engine.store.lineage import Derived, links
from engine.store.protocol import ContextQuery, RecordFilter, Store
from engine.tools.base import Tool

log = logging.getLogger(__name__)

#: Stored messages loaded to build a window; bounds the cost of a turn whatever the history.
HISTORY_LOAD = 200
#: Compiles a turn may fold before it sends what fits.
_FOLDS = 4


@dataclass(eq=False)
class ContextWindow:
    """Builds the requests of every agent of a store (one compiler per model)."""

    store: Store
    tokens: Callable[[str], TokenCount]
    summarizer: Summarizer
    clock: Callable[[], datetime]
    history_load: int = HISTORY_LOAD
    #: A model's context window as its server states it (None when it does not say).
    window_of: Callable[[str], Awaitable[int | None]] | None = None
    _compilers: dict[str, ContextCompiler] = field(init=False, default_factory=dict)
    _clamped: set[tuple[str, str, int]] = field(init=False, default_factory=set)

    async def compile(
        self,
        agent: Agent,
        memory: TurnMemory,
        conversation: ConversationKey,
        current: Sequence[Message],
        tools: Sequence[Tool],
        rules: str = "",
        *,
        fold: bool = True,
    ) -> CompiledContext:
        """The request of the agent's next step; ``current`` are this turn's messages not yet
        stored. With ``fold`` False nothing is written: what would be folded is left out."""
        agent = await self._within_window(agent)
        where = RecordFilter.for_audience(agent.id, memory.audience)
        read = await self.store.context.read(
            ContextQuery(memory.selection(), where, conversation, self.history_load)
        )
        blocks = memory.adopt(read.blocks)
        stats = MemoryStats(read.messages, read.passages, read.tags)
        summary, loaded = read.summary, read.recent
        audience = memory.audience
        for attempt in range(_FOLDS if fold else 1):
            if attempt:  # read again what the fold changed
                summary = await self.store.summaries.get(conversation)
                loaded = await self.store.messages.recent(
                    conversation, summary.through_seq if summary else 0, self.history_load
                )
            after = summary.through_seq if summary else 0
            summary = _readable_summary(summary, audience)
            whole = after == 0 and len(loaded) < self.history_load
            seen = HistoryRead(conversation, tuple(loaded), whole)
            beyond, loaded = await self._beyond_load(conversation, after, loaded)
            # A conversation keeps its key when its channel changes audience (a private
            # channel opened to everyone): only what this audience may read enters the window.
            history = _readable(audience, loaded)
            # A turn applied before and re-run finds its own messages stored already.
            stored = {m.id for m in history}
            compiled = self._compiler(agent.model).compile(
                ContextInput(
                    system_prompt=agent.system_prompt
                    or DEFAULT_SYSTEM_PROMPT.format(name=agent.name),
                    rules=rules,
                    audience=audience,
                    speaker_name=memory.speaker.name,
                    channel_name=memory.channel_name,
                    blocks=blocks,
                    stats=stats,
                    summary=summary.text if summary else "",
                    history=history,
                    current=[m for m in current if m.id not in stored],
                    tools=[t.schema() for t in tools],
                    budget=agent.context_budget,
                    now=self.clock(),
                )
            )
            compiled = replace(compiled, history=seen)
            memory.provenance.see(
                [m for m in history if m.id in compiled.in_view],
                blocks,
                str(conversation),
                summary.text if summary else "",
            )
            evicted = [
                *_readable(audience, beyond),
                *compiled.evicted,
            ]
            if not evicted or not fold:
                return compiled
            await self._fold(agent, conversation, memory.audience, summary, evicted)
        return compiled

    async def _beyond_load(
        self, conversation: ConversationKey, after: int, loaded: list[Message]
    ) -> tuple[list[Message], list[Message]]:
        """Split a full load: what must leave the window (every message since the summary
        that came before the load, and the load's older half, so the next fold waits for
        half a load), and what stays. A load that is not full stays whole."""
        if len(loaded) < self.history_load:
            return [], loaded
        cut = len(loaded) - self.history_load // 2
        while cut < len(loaded) and loaded[cut].role is Role.TOOL:
            cut += 1  # a tool result stays with the call it answers
        before = await self.store.messages.between(conversation, after, loaded[0].seq - 1)
        return [*before, *loaded[:cut]], loaded[cut:]

    async def _within_window(self, agent: Agent) -> Agent:
        """``agent`` with its budget cut to its model's context window (its own setting, or
        what the server says), warning once per agent, model and window."""
        window = agent.context_window
        if window is None and self.window_of is not None:
            window = await self.window_of(agent.model)
        if window is None or agent.context_budget <= window:
            return agent
        key = (agent.id, agent.model, window)
        if key not in self._clamped:
            self._clamped.add(key)
            log.warning(
                "agent %s: context budget %d exceeds the %d-token context window of %s; "
                "using %d (lower MNEMO_CONTEXT_BUDGET or the agent's context_budget)",
                agent.name,
                agent.context_budget,
                window,
                agent.model,
                window,
            )
        return replace(agent, context_budget=window)

    def _compiler(self, model: str) -> ContextCompiler:
        compiler = self._compilers.get(model)
        if compiler is None:
            compiler = self._compilers[model] = ContextCompiler(self.tokens(model))
        return compiler

    async def _fold(
        self,
        agent: Agent,
        conversation: ConversationKey,
        audience: Audience,
        summary: Summary | None,
        evicted: Sequence[Message],
    ) -> None:
        """Fold ``evicted`` into the summary. A summary is derived from every message it folded:
        linked before it is written, so no summary outlives a forget of what it holds."""
        previous, key = (summary.text if summary else ""), str(conversation)
        text = previous
        if agent.overflow == "summarize":
            try:
                text = await self.summarizer.summarize(agent, previous, evicted)
            except LLMError as exc:
                log.warning("summary of %s failed (%s); truncating instead", conversation, exc)
            else:
                folded = [m.id for m in evicted]
                workspace = conversation.workspace
                await self.store.lineage.link(links(Derived.SUMMARY, key, folded, workspace))
        updated = Summary(
            **asdict(conversation),
            scope=audience.write_scope,
            text=text,
            through_seq=evicted[-1].seq,
            version=(summary.version + 1) if summary else 1,
            updated_at=self.clock(),
        )
        # Losing this race is fine: the winner folded the same or newer messages.
        await self.store.summaries.put(updated, summary.version if summary else 0)


def _readable(audience: Audience, messages: Iterable[Message]) -> list[Message]:
    """The messages ``audience`` may read, checked once per workspace and scope (the messages
    of a conversation share one or a few)."""
    verdicts: dict[tuple[str, Scope], bool] = {}
    readable = []
    for message in messages:
        where = (message.workspace, message.scope)
        verdict = verdicts.get(where)
        if verdict is None:
            verdict = verdicts[where] = audience.can_read(*where)
        if verdict:
            readable.append(message)
    return readable


def _readable_summary(summary: Summary | None, audience: Audience) -> Summary | None:
    """``summary`` with its text left out when it was written for another audience; its
    version and position stay, so folding more messages into it still compares-and-sets."""
    if summary is None or audience.can_read(summary.workspace, summary.scope):
        return summary
    return replace(summary, text="")
