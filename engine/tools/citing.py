"""Where remembered things were said, for the agent: citations on search results, and ``why``.

With these the agent can answer "you told me on 3 March in #design" and give the link. Every
citation passes the turn's audience (DESIGN §3): a source it may not read is never named.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, Field

from engine.citations import Citations, describe_source, readable_by
from engine.records import Message, Passage
from engine.store.lineage import Derived
from engine.tools.base import FunctionTool, ToolContext, ToolError
from engine.why import MemoryExplainer, render_why

WHY = "why"


def citations(ctx: ToolContext) -> Citations:
    return Citations(ctx.store, ctx.links)


async def where_said(ctx: ToolContext, messages: Sequence[Message]) -> str:
    """A closing section naming who said each matching message, when, where, with its link."""
    if not messages:
        return ""
    cited = await citations(ctx).cite(messages)
    return "\n\nWhere the matching messages were said:\n" + "\n".join(
        f"- {describe_source(source)}" for source in cited
    )


async def passage_sources(ctx: ToolContext, passages: Sequence[Passage]) -> dict[str, str]:
    """For each passage with sources this audience may read: "from Alice, 2026-03-03 in ..."."""
    found = await citations(ctx).sources(
        Derived.PASSAGE, [p.id for p in passages], readable_by(ctx.audience)
    )
    return {
        passage_id: "from " + "; ".join(describe_source(s) for s in sources)
        for passage_id, sources in found.items()
    }


class WhyArgs(BaseModel):
    words: str = Field(description="The fact or topic to explain, e.g. 'Alice prefers tea'.")


async def why(ctx: ToolContext, args: WhyArgs) -> str:
    words = args.words.strip()
    if not words:
        raise ToolError("words is empty; say which memory to explain.")
    found = await MemoryExplainer(ctx.store, citations(ctx)).why(ctx.audience, words, [ctx.agent])
    return render_why(words, found)


WHY_TOOL = FunctionTool(
    WHY,
    "Show which of your memories match some words and the messages they came from (who said "
    "it, when, where, with a link), so you can say how you know something.",
    WhyArgs,
    why,
    status="looking up where I learned it…",
)
