"""The agent-to-agent tools: send and go on, send and wait for the reply, ask every agent with
some tags at once (supervisor-worker, map-reduce).

None of them blocks the pipeline: a message is queued as an ``Inbound`` of the recipient and
answered by its own turn. A reply that does not come within the wait still arrives later, as a
message in the conversation the sender asked from.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

from pydantic import BaseModel, Field

from engine.messaging.mail import AgentMail, MessagingRefused
from engine.records import Agent, Inbound
from engine.store.lineage import Derived
from engine.store.protocol import AgentStore
from engine.store.state import MailMode
from engine.tools.base import FunctionTool, Tool, ToolContext, ToolError

SEND_ASYNC = "send_message_to_agent_async"
SEND_AND_WAIT = "send_message_to_agent_and_wait_for_reply"
SEND_TO_TAGGED = "send_message_to_agents_matching_tags"
MESSAGING_TOOLS = (SEND_ASYNC, SEND_AND_WAIT, SEND_TO_TAGGED)
#: Longest wait a tool call may ask for: below the runtime's tool timeout, so a wait that runs
#: out still returns a readable result.
MAX_WAIT = 25.0


class SendAsyncArgs(BaseModel):
    agent_name: str = Field(description="Name of the agent to message.")
    message: str = Field(description="The message. The other agent sees only this text.")


class SendAndWaitArgs(SendAsyncArgs):
    timeout: float = Field(
        default=MAX_WAIT, gt=0, description=f"Seconds to wait for the reply (at most {MAX_WAIT:g})."
    )


class SendToTaggedArgs(BaseModel):
    tags: list[str] = Field(min_length=1, description="Agents having all of these tags are asked.")
    message: str = Field(description="The message every matching agent receives.")
    timeout: float = Field(
        default=MAX_WAIT, gt=0, description=f"Seconds to wait for replies (at most {MAX_WAIT:g})."
    )


def _asked_in(ctx: ToolContext) -> Inbound:
    if ctx.inbound is None:
        raise ToolError("agent messaging is only available while answering a message.")
    return ctx.inbound


def _later(name: str) -> str:
    return f"{name}: no reply yet; it will arrive later as a message in this conversation."


class MessagingTools:
    """Offers the three messaging tools to the agent runtime (an ``engine.agent`` tool provider)."""

    def __init__(self, mail: AgentMail, agents: AgentStore, *, max_wait: float = MAX_WAIT) -> None:
        self._mail = mail
        self._agents = agents
        self._max_wait = max_wait
        self._tools: dict[str, Tool] = {
            tool.name: tool
            for tool in (
                FunctionTool(
                    SEND_ASYNC,
                    "Send a message to another agent and go on at once; its reply arrives later "
                    "as a message in this conversation.",
                    SendAsyncArgs,
                    self._send_async,
                    status="messaging another agent…",
                ),
                FunctionTool(
                    SEND_AND_WAIT,
                    "Send a message to another agent and wait for its reply. If it takes longer "
                    "than the timeout, the reply arrives later as a message.",
                    SendAndWaitArgs,
                    self._send_and_wait,
                    status="asking another agent…",
                ),
                FunctionTool(
                    SEND_TO_TAGGED,
                    "Send one message to every agent that has all the given tags, in parallel, "
                    "and gather their replies (to split work and combine the results).",
                    SendToTaggedArgs,
                    self._send_to_tagged,
                    status="asking other agents…",
                ),
            )
        }

    async def tools_for(self, agent: Agent) -> Mapping[str, Tool]:
        return self._tools

    async def _recipient(self, name: str) -> Agent:
        agent = await self._agents.by_name(name.strip())
        if agent is None:
            names = ", ".join(sorted(a.name for a in await self._agents.list()))
            raise ToolError(f"there is no agent called {name!r}; agents: {names}.")
        return agent

    async def _send(self, ctx: ToolContext, recipient: Agent, text: str, mode: MailMode) -> str:
        """Send ``text``; returns the mail's id. The mail and the recipient's copy of it are
        derived from what this run's text came from."""
        if not text.strip():
            raise ToolError("message is empty.")
        try:
            sent = await self._mail.send(
                ctx.agent, recipient, text, asked_in=_asked_in(ctx), mode=mode
            )
        except MessagingRefused as exc:
            raise ToolError(str(exc)) from None
        written: set[tuple[Derived | None, str]] = {(Derived.MAIL, sent.id)}
        ctx.provenance.derive(Derived.MAIL, sent.id, text)
        if sent.copy:
            ctx.provenance.derive(Derived.MESSAGE, sent.copy, text)
            written.add((Derived.MESSAGE, sent.copy))
        # Linked now, not only when this turn is applied: the mail is already sent.
        workspace = ctx.audience.workspace
        links = await ctx.provenance.links_of_records(ctx.store.lineage, workspace, written)
        await ctx.store.lineage.link(links)
        return sent.id

    async def _send_async(self, ctx: ToolContext, args: SendAsyncArgs) -> str:
        recipient = await self._recipient(args.agent_name)
        message_id = await self._send(ctx, recipient, args.message, MailMode.ASYNC)
        return f"Sent to {recipient.name} (receipt {message_id}); the reply will arrive later."

    async def _send_and_wait(self, ctx: ToolContext, args: SendAndWaitArgs) -> str:
        recipient = await self._recipient(args.agent_name)
        message_id = await self._send(ctx, recipient, args.message, MailMode.WAIT)
        reply = await self._mail.wait(message_id, min(args.timeout, self._max_wait))
        return _later(recipient.name) if reply is None else f"{recipient.name} replied: {reply}"

    async def _send_to_tagged(self, ctx: ToolContext, args: SendToTaggedArgs) -> str:
        wanted = {t.strip().lower() for t in args.tags if t.strip()}
        recipients = [
            agent
            for agent in await self._agents.list()
            if agent.id != ctx.agent.id and wanted <= {t.lower() for t in agent.tags}
        ]
        if not recipients:
            raise ToolError(f"no other agent has all the tags {sorted(wanted)}.")
        recipients.sort(key=lambda a: a.name)
        sent: list[tuple[Agent, str]] = []
        refused: list[str] = []
        for recipient in recipients:
            try:
                sent.append(
                    (recipient, await self._send(ctx, recipient, args.message, MailMode.WAIT))
                )
            except ToolError as exc:
                refused.append(f"{recipient.name}: {exc}")
        timeout = min(args.timeout, self._max_wait)
        replies = await asyncio.gather(*(self._mail.wait(mid, timeout) for _, mid in sent))
        return _gathered([(a.name, r) for (a, _), r in zip(sent, replies, strict=True)], refused)


def _gathered(replies: Sequence[tuple[str, str | None]], refused: Sequence[str]) -> str:
    answered = sum(reply is not None for _, reply in replies)
    lines = [f"{answered} of {len(replies) + len(refused)} agents replied:"]
    for name, reply in replies:
        lines.append(_later(name) if reply is None else f"{name}: {reply}")
    lines.extend(refused)
    return "\n".join(lines)
