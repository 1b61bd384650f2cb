"""Tools that run only once a person approves the call (DESIGN §4).

An ``ApprovalGate`` stands in for such a tool: the agent's call is kept as a pending request
(``engine.store.approvals``), the approvers are shown Approve / Deny on the turn's platform,
and the turn ends waiting. Everything is in the store when the turn ends, so a restart loses
nothing; ``engine.approvals`` runs the call once it is decided.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from engine.audience import Audience
from engine.store.approvals import ApprovalRequest
from engine.tools.base import (
    AudienceLimited,
    Tool,
    ToolContext,
    ToolError,
    ToolOutcome,
    parse_arguments,
)

log = logging.getLogger(__name__)

#: Seconds a request waits for a decision unless its tool's source says otherwise.
DEFAULT_TTL_S = 3600.0
#: What the model reads first in the description of a tool behind a gate.
APPROVAL_NOTE = "Needs a person's approval: calling it ends your turn, and the result comes later."


@dataclass(frozen=True, slots=True)
class ApprovalPolicy:
    """Who may approve a tool's calls, and how long a request waits."""

    #: User ids; none means the person whose message the turn answered.
    approvers: tuple[str, ...] = ()
    ttl_s: float = DEFAULT_TTL_S


class ApprovalPrompter(Protocol):
    """A platform's way of asking the approvers: buttons in Slack or Discord, a prompt in a
    terminal."""

    @property
    def platform(self) -> str: ...

    @property
    def agent_id(self) -> str:
        """The agent whose requests it shows ('' for every agent of its platform)."""

    async def ask_approval(self, request: ApprovalRequest) -> None:
        """Show Approve / Deny for ``request`` in its conversation, to its approvers."""


class ApprovalPrompts:
    """The registered prompters; a request is shown by its agent's bot on its turn's platform
    (one app per agent), else by the platform's prompter for every agent."""

    def __init__(self) -> None:
        self._prompters: dict[tuple[str, str], ApprovalPrompter] = {}

    def register(self, prompter: ApprovalPrompter) -> None:
        self._prompters[prompter.platform, prompter.agent_id] = prompter

    async def ask(self, request: ApprovalRequest) -> bool:
        """Show ``request`` to its approvers; False (logged) when its platform cannot. The
        request stays pending either way, and expires when nobody decides it."""
        platform = request.inbound.platform
        prompter = self._prompters.get((platform, request.agent_id)) or self._prompters.get(
            (platform, "")
        )
        if prompter is None:
            log.warning("approval %s: %s shows no approval prompts", request.id, platform)
            return False
        try:
            await prompter.ask_approval(request)
        except Exception:  # a platform failure must not fail the turn: the request is kept
            log.exception("approval %s: asking on %s failed", request.id, platform)
            return False
        return True


class ApprovalGate:
    """``inner`` behind a person's approval. Every call ends the turn: the request is kept,
    the approvers are asked, and the decision comes back as a new message."""

    terminal = True

    def __init__(self, inner: Tool, policy: ApprovalPolicy, prompts: ApprovalPrompts) -> None:
        self.inner = inner
        self.policy = policy
        self._prompts = prompts

    @property
    def name(self) -> str:
        return self.inner.name

    def schema(self) -> dict[str, Any]:
        schema = self.inner.schema()
        function = dict(schema["function"])
        function["description"] = f"{APPROVAL_NOTE} {function.get('description', '')}".strip()
        return {**schema, "function": function}

    def serves(self, audience: Audience) -> bool:
        return not isinstance(self.inner, AudienceLimited) or self.inner.serves(audience)

    async def invoke(self, ctx: ToolContext, raw_arguments: str) -> ToolOutcome:
        if ctx.inbound is None or ctx.replies is None:
            return _error(f"{self.name} needs a person's approval, which nobody can give here.")
        try:
            parse_arguments(raw_arguments)
        except ToolError as exc:
            return _error(str(exc))
        if not self.policy.approvers and ctx.speaker.is_agent:
            return _error(
                f"{self.name} needs the approval of the person who asks, and an agent asked: "
                "ask a person to request it."
            )
        inbound = ctx.inbound
        approvers = self.policy.approvers or (ctx.speaker.id,)
        request = ApprovalRequest(
            # The same call of the same turn is one request, when the turn runs again.
            id=f"{ctx.replies.head}.{_digest(self.name, raw_arguments)}",
            agent_id=ctx.agent.id,
            workspace=inbound.workspace,
            channel=inbound.channel,
            thread=inbound.thread,
            tool=self.name,
            arguments=raw_arguments,
            requester=ctx.speaker.id,
            approvers=approvers,
            inbound=inbound,
            created_at=ctx.now,
            expires_at=ctx.now + timedelta(seconds=self.policy.ttl_s),
            source=ctx.replies.head,
        )
        if await ctx.store.approvals.put(request):
            await self._prompts.ask(request)
        return ToolOutcome(
            f"Waiting for approval: {', '.join(approvers)} must approve this call of "
            f"{self.name} before it runs. Its result, or the refusal, will come as a new "
            "message; nothing more to do in this turn.",
            terminal=True,
        )


def with_approvals(
    tools: Mapping[str, Tool], required: Collection[str], prompts: ApprovalPrompts
) -> dict[str, Tool]:
    """``tools`` with each that needs approval behind a gate: those named in ``required``
    (the agent's ``requires_approval`` rules), and those whose source asks for it (a tool
    with an ``approval_policy()`` method that answers a policy: an MCP server's tools)."""
    gated: dict[str, Tool] = {}
    for name, tool in tools.items():
        # Looked up, not checked against a runtime protocol: that costs ~10 µs a tool,
        # and this runs for every tool of every turn.
        declared = getattr(tool, "approval_policy", None)
        policy: ApprovalPolicy | None = declared() if declared is not None else None
        if policy is None and name in required:
            policy = ApprovalPolicy()
        gated[name] = tool if policy is None else ApprovalGate(tool, policy, prompts)
    return gated


def ungated(tool: Tool) -> Tool:
    """The tool an approved call runs."""
    return tool.inner if isinstance(tool, ApprovalGate) else tool


def _digest(tool: str, arguments: str) -> str:
    return hashlib.sha256(f"{tool}\0{arguments}".encode()).hexdigest()[:16]


def _error(text: str) -> ToolOutcome:
    return ToolOutcome(f"Error: {text}", error=True)
