"""Built-in tools: replying, staying silent, editing core memory, archival and recall search.

Every LLM step of a turn is a call to one of these (or to a custom or agent-messaging tool).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta

from pydantic import BaseModel, Field

from engine.records import Passage, new_id
from engine.search.exchanges import render_exchanges
from engine.sources.citation import chunk_citations
from engine.sources.tags import topic_tags
from engine.store.lineage import Derived
from engine.store.protocol import RecordFilter
from engine.tools.base import FunctionTool, Searcher, ToolContext, ToolError
from engine.tools.citing import WHY, WHY_TOOL, passage_sources, where_said

SEND_MESSAGE = "send_message"
NO_REPLY = "no_reply"
ARCHIVAL_INSERT = "archival_memory_insert"
TERMINAL_TOOLS = frozenset({SEND_MESSAGE, NO_REPLY})


# -- arguments -----------------------------------------------------------------------------------


class SendMessageArgs(BaseModel):
    message: str = Field(
        description="The reply, in Markdown. Everyone in this conversation sees it."
    )


class NoReplyArgs(BaseModel):
    reason: str = Field(default="", description="Why no reply is needed (kept in your memory).")


class AppendArgs(BaseModel):
    label: str = Field(description="Block label, e.g. human, persona, channel.")
    content: str = Field(description="Text to add on a new line.")


class ReplaceArgs(BaseModel):
    label: str = Field(description="Block label, e.g. human, persona, channel.")
    old_content: str = Field(description="Exact text to replace; must occur exactly once.")
    new_content: str = Field(description="Replacement text (empty to delete).")


class RethinkArgs(BaseModel):
    label: str = Field(description="Block label, e.g. human, persona, channel.")
    new_memory: str = Field(description="The complete new text of this conversation's part.")


class ArchivalInsertArgs(BaseModel):
    content: str = Field(description="A self-contained fact or note worth keeping.")
    tags: list[str] = Field(default_factory=list, description="Short topic tags.")


class ArchivalSearchArgs(BaseModel):
    query: str = Field(description="What to look for, in natural language.")
    tags: list[str] = Field(default_factory=list, description="Only passages with any of these.")
    start_date: str | None = Field(default=None, description="YYYY-MM-DD, inclusive.")
    end_date: str | None = Field(default=None, description="YYYY-MM-DD, inclusive.")
    top_k: int = Field(default=5, ge=1, le=20)


class ConversationSearchArgs(BaseModel):
    query: str = Field(description="Words, names or a question to look for in past messages.")
    start_date: str | None = Field(default=None, description="YYYY-MM-DD, inclusive.")
    end_date: str | None = Field(default=None, description="YYYY-MM-DD, inclusive.")
    limit: int = Field(default=8, ge=1, le=25)


# -- implementations -----------------------------------------------------------------------------


async def send_message(ctx: ToolContext, args: SendMessageArgs) -> str:
    text = args.message.strip()
    if not text:
        raise ToolError("message is empty; write the reply, or call no_reply to stay silent.")
    if ctx.replies is None:
        raise ToolError("there is no conversation to reply to here.")
    ctx.replies.add(text)
    return "Sent."


async def no_reply(ctx: ToolContext, args: NoReplyArgs) -> str:
    return "No reply sent."


async def core_memory_append(ctx: ToolContext, args: AppendArgs) -> str:
    view = await ctx.memory.append(args.label, args.content)
    return f"Appended to {view.label} ({view.size}/{view.limit} characters)."


async def core_memory_replace(ctx: ToolContext, args: ReplaceArgs) -> str:
    view = await ctx.memory.replace(args.label, args.old_content, args.new_content)
    return f"Updated {view.label} ({view.size}/{view.limit} characters)."


async def memory_rethink(ctx: ToolContext, args: RethinkArgs) -> str:
    view = await ctx.memory.rethink(args.label, args.new_memory)
    return f"Rewrote {view.label} ({view.size}/{view.limit} characters)."


async def archival_memory_insert(ctx: ToolContext, args: ArchivalInsertArgs) -> str:
    text = args.content.strip()
    if not text:
        raise ToolError("content is empty.")
    vectors = await ctx.embedder.embed([text])
    passage = Passage(
        id=new_id(),
        agent_id=ctx.agent.id,
        workspace=ctx.audience.workspace,
        scope=ctx.audience.write_scope,
        text=text,
        tags=tuple(sorted({t.strip().lower() for t in args.tags if t.strip()})),
        users=tuple(ctx.people),
        created_at=ctx.now,
        embedding=tuple(float(x) for x in vectors[0]),
    )
    ctx.provenance.derive(Derived.PASSAGE, passage.id, text)
    # The links first: a passage is never stored without them.
    record = {(Derived.PASSAGE, passage.id)}
    links = await ctx.provenance.links_of_records(ctx.store.lineage, passage.workspace, record)
    await ctx.store.lineage.link(links)
    await ctx.store.passages.insert([passage])
    return "Stored in archival memory."


def _date_window(start: str | None, end: str | None) -> tuple[datetime | None, datetime | None]:
    try:
        lo = datetime.combine(date.fromisoformat(start), time.min, UTC) if start else None
        hi = (
            datetime.combine(date.fromisoformat(end), time.min, UTC) + timedelta(days=1)
            if end
            else None
        )
    except ValueError as exc:
        raise ToolError(f"dates must be YYYY-MM-DD ({exc}).") from exc
    return lo, hi


def _filter(
    ctx: ToolContext, start: str | None, end: str | None, tags: Sequence[str] = ()
) -> RecordFilter:
    lo, hi = _date_window(start, end)
    base = ctx.where
    return RecordFilter(
        base.agent_id, base.workspace, base.scopes, start=lo, end=hi, tags=tuple(tags)
    )


def _searcher(ctx: ToolContext) -> Searcher:
    if ctx.search is None:
        raise ToolError("searching memory is not available here.")
    return ctx.search


async def archival_memory_search(ctx: ToolContext, args: ArchivalSearchArgs) -> str:
    where = _filter(ctx, args.start_date, args.end_date, [t.lower() for t in args.tags])
    hits = await _searcher(ctx).passages(where, args.query, args.top_k)
    if not hits:
        return "No archival passages matched."
    ctx.provenance.found(Derived.PASSAGE, [hit.record.id for hit in hits])
    lines = [f"{len(hits)} passages:"]
    cited = await passage_sources(ctx, [hit.record for hit in hits])
    # A chunk of a document is cited by the document, section and page it came from.
    places = await chunk_citations(ctx.store.sources, [hit.record.id for hit in hits])
    cited |= {passage_id: f"from {place}" for passage_id, place in places.items()}
    for hit in hits:
        p = hit.record
        topics = topic_tags(p.tags)
        tags = f" [{', '.join(topics)}]" if topics else ""
        source = f" ({cited[p.id]})" if p.id in cited else ""
        lines.append(f"- ({p.created_at:%Y-%m-%d}){tags} {p.text}{source}")
    return "\n".join(lines)


async def conversation_search(ctx: ToolContext, args: ConversationSearchArgs) -> str:
    where = _filter(ctx, args.start_date, args.end_date)
    asked_in = ctx.inbound.conversation if ctx.inbound is not None else None
    found = await _searcher(ctx).exchanges(where, args.query, args.limit, ctx.in_view, asked_in)
    ctx.provenance.found(Derived.MESSAGE, [m.id for exchange in found for m in exchange.turns])
    hits = [m for exchange in found for m in exchange.turns if m.id in exchange.hits]
    return render_exchanges(found) + await where_said(ctx, hits)


BUILTIN_TOOLS: Mapping[str, FunctionTool] = {
    tool.name: tool
    for tool in (
        FunctionTool(
            SEND_MESSAGE,
            "Send a reply to the conversation. Ends your turn.",
            SendMessageArgs,
            send_message,
            terminal=True,
        ),
        FunctionTool(
            NO_REPLY,
            "End your turn without replying (nothing needs an answer from you). Ends your turn.",
            NoReplyArgs,
            no_reply,
            terminal=True,
        ),
        FunctionTool(
            "core_memory_append",
            "Add a line to a core memory block (what you must always keep in mind).",
            AppendArgs,
            core_memory_append,
            status="updating notes…",
        ),
        FunctionTool(
            "core_memory_replace",
            "Replace exact text in a core memory block.",
            ReplaceArgs,
            core_memory_replace,
            status="updating notes…",
        ),
        FunctionTool(
            "memory_rethink",
            "Rewrite this conversation's part of a core memory block completely "
            "(to reorganise or shorten it).",
            RethinkArgs,
            memory_rethink,
            status="updating notes…",
        ),
        FunctionTool(
            ARCHIVAL_INSERT,
            "Keep a fact or note in archival memory (unlimited, searched by meaning).",
            ArchivalInsertArgs,
            archival_memory_insert,
            status="saving to memory…",
        ),
        FunctionTool(
            "archival_memory_search",
            "Search archival memory by meaning, optionally by tags and dates.",
            ArchivalSearchArgs,
            archival_memory_search,
            status="searching memory…",
        ),
        FunctionTool(
            "conversation_search",
            "Search past messages (recall memory) by words, names and dates.",
            ConversationSearchArgs,
            conversation_search,
            status="searching past conversations…",
        ),
        WHY_TOOL,
    )
}

#: ``why`` is opt-in (an agent's ``tools``): its schema costs every prompt, and most agents
#: cite well enough from what their searches return.
DEFAULT_TOOLS: tuple[str, ...] = tuple(name for name in BUILTIN_TOOLS if name != WHY)
