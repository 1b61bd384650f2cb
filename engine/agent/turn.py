"""One turn: the agent answers pending messages of one conversation on the tool loop.

It never hangs (bounded steps, tool timeouts, the LLM client's bounded retries) and, when the
model stays down or refuses, answers with one clear sentence. It writes no recall message and
no reply itself: it returns them for the pipeline to store.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime

from engine.agent.context import ContextOverflow
from engine.agent.loop import ToolLoop, tool_rules
from engine.agent.memory import TurnMemory
from engine.agent.prompts import (
    CONTEXT_TOO_SMALL_REPLY,
    LLM_DOWN_REPLY,
    LLM_KEY_REFUSED_REPLY,
    LLM_REJECTED_REPLY,
    NO_ANSWER_REPLY,
    rejection_advice,
)
from engine.agent.provenance import message_text
from engine.agent.window import ContextWindow
from engine.audience import AudienceKind
from engine.citations import PlatformLinks
from engine.embeddings import Embedder
from engine.llm import ChatModel, ChatRequest, LLMRejected, LLMUnavailable
from engine.records import Agent, Inbound, Message, Role, ToolCall, next_seq
from engine.search import HistoryRead
from engine.store.lineage import Derivation, Derived, links_of
from engine.store.protocol import Store
from engine.store.queues import InboxItem
from engine.tools.base import Searcher, Tool, ToolContext
from engine.turns import Replies, TurnResult, user_message

log = logging.getLogger(__name__)


def channel_label(inbound: Inbound) -> str:
    if inbound.audience.kind is AudienceKind.DM:
        return "direct messages"
    return inbound.channel_name or inbound.channel


@dataclass(frozen=True, slots=True)
class TurnServices:
    """What every turn of a runtime works with."""

    store: Store
    search: Searcher
    embedder: Embedder
    model: ChatModel
    window: ContextWindow
    clock: Callable[[], datetime]
    tool_timeout: float
    links: PlatformLinks | None = None

    def context(self, agent: Agent, inbound: Inbound, replies: Replies) -> ToolContext:
        """The context of tools run while ``agent`` answers ``inbound``."""
        speaker = inbound.author
        return ToolContext(
            agent=agent,
            audience=inbound.audience,
            speaker=speaker,
            memory=TurnMemory(
                self.store.blocks,
                agent,
                inbound.audience,
                speaker=speaker,
                channel_name=channel_label(inbound),
                shared=agent.shared_blocks,
                lineage=self.store.lineage,
            ),
            store=self.store,
            embedder=self.embedder,
            now=self.clock(),
            people={speaker.id: speaker.name} if speaker.id and not speaker.is_agent else {},
            search=self.search,
            inbound=inbound,
            replies=replies,
            links=self.links,
        )


class Turn:
    """One turn over ``items``: their user messages, then what the agent's steps produced."""

    def __init__(self, services: TurnServices, agent: Agent, items: Sequence[InboxItem]) -> None:
        self.agent = agent
        self.inbound = items[-1].inbound
        self.anchor = items[-1].id
        self.heard = tuple(user_message(item) for item in items)
        self._services = services
        self._replies = Replies.for_items(items, services.clock)
        self._ctx = services.context(agent, self.inbound, self._replies)
        for item in items:
            # Another agent's message was derived from what that agent read: its sources count.
            self._ctx.provenance.read([item.id], derived=item.inbound.author.is_agent)
        self._produced: tuple[Message, ...] = ()
        self._made = 0
        #: What the newest context read found of the conversation.
        self._seen: HistoryRead | None = None

    def _record(
        self, role: Role, content: str, tool_calls: tuple[ToolCall, ...], tool_call_id: str
    ) -> Message:
        mine = role is Role.ASSISTANT
        self._made += 1
        return Message(
            **asdict(self.inbound.conversation),
            id=f"{self.anchor}.{self._made:03d}",
            scope=self.inbound.audience.write_scope,
            role=role,
            author=self.agent.id if mine else "",
            author_name=self.agent.name if mine else "",
            content=content,
            seq=next_seq(),
            created_at=self._services.clock(),
            tool_calls=tool_calls,
            tool_call_id=tool_call_id,
            turn_id=self.anchor,
        )

    async def run(self, tools: Mapping[str, Tool]) -> TurnResult:
        replies = self._replies
        failure = ""
        try:
            await self._steps(tools)
        except LLMUnavailable as exc:
            failure = str(exc)
            log.warning("turn %s: %s", self.anchor, exc)
            replies.retract()
            replies.add(LLM_DOWN_REPLY)
        except LLMRejected as exc:
            # Asking again would be refused the same way: the user hears now, the operator
            # gets what to change.
            log.error("turn %s: agent %s: %s", self.anchor, self.agent.name, rejection_advice(exc))
            failure = str(exc)
            refused_key = exc.status in (401, 403)
            replies.retract()
            replies.add(LLM_KEY_REFUSED_REPLY if refused_key else LLM_REJECTED_REPLY)
        except ContextOverflow as exc:
            failure = str(exc)
            log.error("turn %s: agent %s: %s", self.anchor, self.agent.name, exc)
            replies.retract()
            replies.add(CONTEXT_TOO_SMALL_REPLY)
        except Exception:
            # The turn will run again, but what it wrote to memory so far stays: so must the
            # lineage of it, or a forget would miss it.
            store = self._services.store
            await store.lineage.link(links_of(await self._links()))
            raise
        return TurnResult(
            (*self.heard, *self._produced), replies.sent, await self._links(), failure, self._seen
        )

    async def _links(self) -> tuple[Derivation, ...]:
        """The lineage of everything the turn wrote, its own messages included."""
        provenance = self._ctx.provenance
        for message in self._produced:
            provenance.derive(Derived.MESSAGE, message.id, message_text(message))
        return await provenance.links(self._services.store.lineage, self.inbound.workspace)

    async def _steps(self, tools: Mapping[str, Tool]) -> None:
        ctx, agent, services = self._ctx, self.agent, self._services

        async def request(
            offered: Sequence[Tool], rules: str, produced: Sequence[Message]
        ) -> ChatRequest:
            compiled = await services.window.compile(
                agent,
                ctx.memory,
                self.inbound.conversation,
                (*self.heard, *produced),
                offered,
                rules,
            )
            ctx.in_view = compiled.in_view
            self._seen = compiled.history
            answer = min(agent.max_tokens, compiled.answer_room)
            return ChatRequest(agent.model, compiled.messages, compiled.tools, max_tokens=answer)

        loop = ToolLoop(
            services.model,
            ctx,
            tools,
            tool_rules(agent.tool_rules, tools, agent.name),
            request=request,
            record=self._record,
            max_steps=agent.max_steps,
            tool_timeout=services.tool_timeout,
            label=f"turn {self.anchor}",
        )
        end = await loop.run()
        # Kept only when the loop completes: a turn that failed midway answers with a notice.
        self._produced = end.produced
        if end.answer:
            self._replies.add(end.answer)
        elif not end.decided and not self._replies:
            # The user asked and the model never answered: say so rather than stay mute.
            log.warning("turn %s: agent %s ended without a reply", self.anchor, agent.name)
            self._replies.add(NO_ANSWER_REPLY)
