"""Background passes: the agent's tool loop run outside a conversation turn.

A pass has its own instructions, message and tools (a memory pass edits blocks and keeps
archival passages, then finishes) and its own model access (a job's token budget). It runs on
the same loop as a turn: the same tool type, rules, tool errors, step limit and terminal
tools; its writes go through the tools, under the pass's audience, each derived from the
messages the pass read, and nothing else is stored but their lineage.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from engine.agent.context import to_chat
from engine.agent.loop import TOOL_TIMEOUT, ToolLoop, tool_rules
from engine.agent.memory import TurnMemory
from engine.agent.provenance import Provenance
from engine.audience import Audience
from engine.embeddings import Embedder
from engine.llm import ChatModel, ChatRequest
from engine.records import Agent, Author, Message, Role, ToolCall, new_id
from engine.store.protocol import Store
from engine.tools.base import Tool, ToolContext, ToolOutcome


@dataclass(frozen=True, slots=True)
class AgentPass:
    """What one pass is: whose memory, for which audience, with what instructions and tools."""

    agent: Agent
    audience: Audience
    #: The pass's system prompt and the one user message it works from.
    prompt: str
    body: str
    tools: Mapping[str, Tool]
    max_steps: int
    #: The people whose words the pass reads, by user id (passages it keeps name them).
    people: Mapping[str, str]
    channel_name: str
    now: datetime
    #: The ids of the messages the pass reads: what it writes is derived from them.
    read: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PassReport:
    """What the pass did: every call, in order, with its outcome, and the transcript of its
    steps (assistant calls and tool results; never stored)."""

    calls: tuple[tuple[ToolCall, ToolOutcome], ...]
    messages: tuple[Message, ...]

    def succeeded(self, names: Collection[str]) -> int:
        """How many calls of tools in ``names`` succeeded."""
        return sum(1 for call, outcome in self.calls if call.name in names and not outcome.error)


async def run_pass(
    store: Store,
    embedder: Embedder,
    task: AgentPass,
    model: ChatModel,
    *,
    tool_timeout: float = TOOL_TIMEOUT,
) -> PassReport:
    """Run ``task`` on the agent's tool loop until it finishes or reaches its step limit."""
    agent, audience = task.agent, task.audience
    nobody = Author("", "")
    provenance = Provenance()
    provenance.read(task.read)
    ctx = ToolContext(
        agent=agent,
        audience=audience,
        speaker=nobody,
        memory=TurnMemory(
            store.blocks,
            agent,
            audience,
            speaker=nobody,
            channel_name=task.channel_name,
            provenance=provenance,
            lineage=store.lineage,
        ),
        store=store,
        embedder=embedder,
        now=task.now,
        people=dict(task.people),
    )
    opening = [
        {"role": "system", "content": task.prompt},
        {"role": "user", "content": task.body},
    ]

    async def request(
        offered: Sequence[Tool], rules: str, produced: Sequence[Message]
    ) -> ChatRequest:
        messages = [*opening, *(to_chat(m) for m in produced)]
        return ChatRequest(agent.model, messages, [t.schema() for t in offered])

    def record(role: Role, content: str, calls: tuple[ToolCall, ...], answers: str) -> Message:
        return Message(
            id=new_id(),
            agent_id=agent.id,
            workspace=audience.workspace,
            channel=audience.channel,
            thread="",
            scope=audience.write_scope,
            role=role,
            author="",
            author_name="",
            content=content,
            seq=0,
            created_at=task.now,
            tool_calls=calls,
            tool_call_id=answers,
        )

    loop = ToolLoop(
        model,
        ctx,
        task.tools,
        tool_rules((), task.tools, agent.name),
        request=request,
        record=record,
        max_steps=task.max_steps,
        tool_timeout=tool_timeout,
        label=f"pass of {agent.name}",
    )
    try:
        end = await loop.run()
    finally:
        # What the pass wrote before a failure stays written: so does its lineage.
        await provenance.write(store.lineage, audience.workspace)
    return PassReport(end.calls, end.produced)
