"""The context compiler: everything an LLM request carries, fitted to the agent's token budget.

Order (DESIGN §3): system prompt, core-memory blocks with their size and limit, a short
metadata section about what lies outside the window, the conversation summary, then the most
recent messages. Messages that do not fit are returned as ``evicted`` for the caller to fold
into the summary; the request itself never exceeds the budget.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from engine.agent.memory import BlockView, describe_scope
from engine.audience import Audience, AudienceKind
from engine.records import Message, Role, ToolCall
from engine.search import HistoryRead
from engine.sources.tags import split_source_tags

type ChatMessage = dict[str, Any]

#: Share of the room for messages kept after an eviction, so that summarising is not needed
#: again at the very next turn.
EVICTION_TARGET = 0.6
#: Tokens every answer is primed with (<|start|>assistant<|message|>).
REPLY_PRIMING = 3
_TRUNCATION_MARK = "\n[... truncated to fit the context window ...]"


class TokenCount(Protocol):
    def count(self, text: str) -> int: ...
    def count_message(self, message: ChatMessage) -> int: ...
    def count_tools(self, tools: Sequence[dict[str, Any]]) -> int: ...


@dataclass(frozen=True, slots=True)
class MemoryStats:
    """What lies outside the window, so the agent knows what it does not see."""

    recall_messages: int
    passages: int
    tags: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ContextInput:
    system_prompt: str
    rules: str
    audience: Audience
    speaker_name: str
    channel_name: str
    blocks: Sequence[BlockView]
    stats: MemoryStats
    summary: str
    #: Stored messages of the conversation after the summary, oldest first.
    history: Sequence[Message]
    #: Messages produced so far in this turn (always kept).
    current: Sequence[Message]
    tools: Sequence[dict[str, Any]]
    budget: int
    now: datetime


@dataclass(frozen=True, slots=True)
class CompiledContext:
    messages: list[ChatMessage]
    tools: list[dict[str, Any]]
    #: Tokens per section: system, blocks, metadata, summary, messages, tools.
    sections: dict[str, int]
    budget: int
    #: Stored messages left out, oldest first; fold them into the summary.
    evicted: tuple[Message, ...]
    #: Ids of the stored messages in the window.
    in_view: frozenset[str] = frozenset()
    #: The conversation's stored messages the context was compiled from, read or not by its
    #: audience; the turn's messages are embedded with the turn before them taken from here.
    history: HistoryRead | None = None

    @property
    def total(self) -> int:
        return sum(self.sections.values())

    @property
    def answer_reserve(self) -> int:
        """Tokens of the budget kept free for the model's answer."""
        return answer_reserve(self.budget)

    @property
    def answer_room(self) -> int:
        """Tokens the answer may take so that request and answer fit the budget (the model's
        context window holds both)."""
        return self.budget - self.total - REPLY_PRIMING


def answer_reserve(budget: int) -> int:
    """Tokens kept free for the model's answer."""
    return min(1024, budget // 8)


def render_blocks(blocks: Sequence[BlockView], audience: Audience) -> str:
    lines = [
        "<memory_blocks>",
        "Your core memory, always in view. Keep it current with core_memory_append, "
        "core_memory_replace and memory_rethink.",
    ]
    for view in blocks:
        about = f' about="{view.subject_name}"' if view.subject_name else ""
        lines.append(f'<{view.label}{about} chars="{view.size}/{view.limit}">')
        for part in view.parts:
            if part.value:
                lines.append(f"[seen {describe_scope(part.scope, view.subject_name)}]")
                lines.append(part.value)
        lines.append(f"</{view.label}>")
    lines.append("</memory_blocks>")
    return "\n".join(lines)


def describe_audience(audience: Audience, speaker_name: str, channel_name: str) -> str:
    match audience.kind:
        case AudienceKind.DM:
            return (
                f"a direct message with {speaker_name}; what you learn here stays private to "
                f"your DMs with {speaker_name}"
            )
        case AudienceKind.PRIVATE:
            return f"the private channel {channel_name}; what you learn here stays in this channel"
        case AudienceKind.PUBLIC:
            return (
                f"the public channel {channel_name}; everyone in the workspace can read it, and "
                "what you learn here is visible across the workspace"
            )


def render_metadata(data: ContextInput) -> str:
    lines = [
        "<memory_metadata>",
        f"Current time: {data.now:%Y-%m-%d %H:%M %Z}".rstrip(),
        f"You are in {describe_audience(data.audience, data.speaker_name, data.channel_name)}.",
        f"Recall memory: {data.stats.recall_messages} messages you can see; older ones are "
        "found with conversation_search.",
        f"Archival memory: {data.stats.passages} passages, found with archival_memory_search.",
    ]
    documents, tags = split_source_tags(data.stats.tags)
    if documents:
        named = sorted(documents.items(), key=lambda kv: (-kv[1], kv[0]))[:20]
        lines.append(
            'Documents in archival memory (search one with tags=["source:<name>"]; cite them '
            "by name, section and page): " + ", ".join(f"{name} ({n} chunks)" for name, n in named)
        )
    if tags:
        top = sorted(tags.items(), key=lambda kv: (-kv[1], kv[0]))[:12]
        lines.append("Archival tags: " + ", ".join(f"{tag} ({n})" for tag, n in top))
    lines.append("</memory_metadata>")
    return "\n".join(lines)


def render_summary(summary: str) -> str:
    if not summary:
        return ""
    return (
        f"<conversation_summary>\nEarlier in this conversation:\n{summary}\n</conversation_summary>"
    )


def chat_tool_calls(calls: Sequence[ToolCall]) -> list[ChatMessage]:
    """Tool calls as an assistant message of the OpenAI chat format carries them."""
    return [
        {
            "id": call.id,
            "type": "function",
            "function": {"name": call.name, "arguments": call.arguments},
        }
        for call in calls
    ]


def to_chat(message: Message) -> ChatMessage:
    """One recall message in the OpenAI chat format."""
    match message.role:
        case Role.USER:
            stamp = f"{message.created_at:%Y-%m-%d %H:%M}"
            return {
                "role": "user",
                "content": f"[{stamp}] {message.author_name}: {message.content}",
            }
        case Role.ASSISTANT:
            chat: ChatMessage = {"role": "assistant", "content": message.content or None}
            if message.tool_calls:
                chat["tool_calls"] = chat_tool_calls(message.tool_calls)
            return chat
        case Role.TOOL:
            return {
                "role": "tool",
                "tool_call_id": message.tool_call_id,
                "content": message.content,
            }
        case Role.SYSTEM:
            return {"role": "system", "content": message.content}


def _units(messages: Sequence[Message]) -> list[list[Message]]:
    """Group messages so a tool call is never separated from its results.

    A unit is a user message, or an assistant message with the tool results that follow it;
    tool results whose call lies outside the loaded history are dropped.
    """
    units: list[list[Message]] = []
    for message in messages:
        if message.role is Role.TOOL:
            if units and units[-1][0].role is Role.ASSISTANT and units[-1][0].tool_calls:
                units[-1].append(message)
            continue
        units.append([message])
    return units


class ContextCompiler:
    """Builds one LLM request from memory; pure, so it is cheap and easy to test."""

    def __init__(self, tokens: TokenCount, *, cache_size: int = 20_000) -> None:
        self._tokens = tokens
        #: Stored messages rendered and counted, by (id, content): a window is mostly the
        #: same messages turn after turn, so each is rendered and counted once.
        self._rendered: OrderedDict[tuple[str, str], tuple[ChatMessage, int]] = OrderedDict()
        self._cache_size = cache_size

    def compile(self, data: ContextInput) -> CompiledContext:
        tokens = self._tokens
        system_text = data.system_prompt + ("\n\n" + data.rules if data.rules else "")
        blocks_text = render_blocks(data.blocks, data.audience)
        metadata_text = render_metadata(data)
        summary_text = render_summary(data.summary)
        system_message: ChatMessage = {
            "role": "system",
            "content": "\n\n".join(
                t for t in (system_text, blocks_text, metadata_text, summary_text) if t
            ),
        }
        sections = {
            "system": tokens.count_message({"role": "system", "content": system_text}),
            "blocks": tokens.count(blocks_text),
            "metadata": tokens.count(metadata_text),
            "summary": tokens.count(summary_text) if summary_text else 0,
            "tools": tokens.count_tools(data.tools) if data.tools else 0,
        }
        fixed = tokens.count_message(system_message) + sections["tools"]
        room = data.budget - answer_reserve(data.budget) - fixed
        if room <= 0:
            raise ContextOverflow(
                f"system prompt, memory blocks and tools take {fixed} tokens, more than the "
                f"budget of {data.budget} allows; raise the agent's context_budget"
            )

        current = self._fit(data.current, room) if data.current else []
        used = self._unit_tokens(current)
        history = _units(data.history)
        rendered_units = [[self._render(m) for m in unit] for unit in history]
        costs = [sum(cost for _, cost in unit) for unit in rendered_units]
        kept: list[list[ChatMessage]] = []
        kept_ids: list[str] = []
        evicted_from = len(history)
        target = room if used + sum(costs) <= room else int(room * EVICTION_TARGET)
        for index in range(len(history) - 1, -1, -1):
            rendered = [chat for chat, _ in rendered_units[index]]
            cost = costs[index]
            is_newest = index == len(history) - 1 and not current
            if is_newest and used + cost > room:
                rendered = self._fit(history[index], room - used)
                cost = self._unit_tokens(rendered)
            if used + cost > (target if not is_newest else room):
                break
            kept.append(rendered)
            kept_ids += [m.id for m in history[index]]
            used += cost
            evicted_from = index
        kept.reverse()
        evicted = tuple(m for unit in history[:evicted_from] for m in unit)
        window = [m for unit in kept for m in unit] + current
        sections["messages"] = used
        return CompiledContext(
            messages=[system_message, *window],
            tools=list(data.tools),
            sections=sections,
            budget=data.budget,
            evicted=evicted,
            in_view=frozenset(kept_ids),
        )

    def _unit_tokens(self, unit: Sequence[ChatMessage]) -> int:
        return sum(self._tokens.count_message(m) for m in unit)

    def _render(self, message: Message) -> tuple[ChatMessage, int]:
        """A stored message in the chat format and its token count (shared: never mutate)."""
        key = (message.id, message.content)
        found = self._rendered.get(key)
        if found is not None:
            self._rendered.move_to_end(key)
            return found
        chat = to_chat(message)
        found = (chat, self._tokens.count_message(chat))
        self._rendered[key] = found
        if len(self._rendered) > self._cache_size:
            self._rendered.popitem(last=False)
        return found

    def _fit(self, unit: Sequence[Message], room: int) -> list[ChatMessage]:
        """Render a unit, shortening its longest text until it fits ``room`` tokens."""
        rendered = [to_chat(m) for m in unit]
        while self._unit_tokens(rendered) > room:
            longest = max(rendered, key=lambda m: len(m.get("content") or ""))
            text: str = longest.get("content") or ""
            if len(text) <= len(_TRUNCATION_MARK) + 16:
                break
            longest["content"] = text[: len(text) // 2] + _TRUNCATION_MARK
        return rendered


class ContextOverflow(Exception):
    """The fixed part of the request alone exceeds the budget (an operator setting to fix)."""
