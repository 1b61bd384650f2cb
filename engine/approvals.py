"""Deciding tool calls that wait for approval, and resuming their conversations.

A decision is taken once (compare-and-set in the store): an approved call runs with its saved
arguments under its saved audience, then the conversation gets a new message saying what
happened, keyed ``approval:<id>`` so a repeat is dropped by the inbox. The agent's next turn
answers it, which is how a paused turn resumes, on any replica and after any restart.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from engine.audience import AudienceKind
from engine.ports import IntakePort
from engine.records import utcnow
from engine.store.approvals import ApprovalRequest, ApprovalStatus
from engine.store.protocol import Store
from engine.tools.base import ToolOutcome

log = logging.getLogger(__name__)

#: Who decided a request denied because none of its approvers could see its conversation.
UNSEEN = "(no approver sees this conversation)"
#: How every tool error the agent reads begins.
TOOL_ERROR = "Error:"
#: Requests expired (or resumed) per pass of ``expire_overdue`` (``resume_interrupted``).
EXPIRE_BATCH = 100
#: How long after a decision its conversation may still be being told, before a stop is
#: assumed (an approved call runs within its tool's time limit).
RESUME_AFTER = timedelta(minutes=15)


class DecisionOutcome(StrEnum):
    APPROVED = "approved"
    DENIED = "denied"
    EXPIRED = "expired"
    #: The person who pressed may not decide this request.
    NOT_APPROVER = "not_approver"
    #: Someone decided it first (or it expired): nothing changed.
    DECIDED_ALREADY = "decided_already"
    UNKNOWN = "unknown"
    #: The press came from outside the request's conversation: nothing changed.
    ELSEWHERE = "elsewhere"


@dataclass(frozen=True, slots=True)
class PressedIn:
    """Where a button was pressed (or an answer typed). A request is decided only from its
    own platform, workspace and conversation, so its id copied anywhere else decides nothing;
    an empty field is not checked (the terminal has one conversation)."""

    platform: str
    workspace: str = ""
    #: The channel, or the thread, the press came from.
    channel: str = ""
    #: The agent whose bot was pressed ("" where one app serves every agent).
    agent_id: str = ""

    def holds(self, request: ApprovalRequest) -> bool:
        conversation = (request.channel, request.thread)
        return self.names(
            request.inbound.platform, request.agent_id, request.workspace, conversation
        )

    def names(
        self, platform: str, agent_id: str, workspace: str, conversation: tuple[str, ...]
    ) -> bool:
        """Whether the press came from that platform, agent, workspace and conversation (its
        channel or its thread)."""
        return (
            self.platform == platform
            and self.agent_id in ("", agent_id)
            and self.workspace in ("", workspace)
            and self.channel in ("", *conversation)
        )


@dataclass(frozen=True, slots=True)
class ApprovalAnswer:
    """What a press did: ``text`` goes to the person who pressed (privately when nothing
    changed) or onto the prompt (once decided)."""

    outcome: DecisionOutcome
    text: str
    request: ApprovalRequest | None = None

    @property
    def changed(self) -> bool:
        return self.outcome in {
            DecisionOutcome.APPROVED,
            DecisionOutcome.DENIED,
            DecisionOutcome.EXPIRED,
        }


class ApprovalPort(Protocol):
    """What an adapter calls when someone presses Approve or Deny."""

    async def decide_approval(
        self, request_id: str, user: str, approve: bool, where: PressedIn | None = None
    ) -> ApprovalAnswer:
        """Decide the request as ``user``; refused (and nothing changed) when they are not
        one of its approvers, it was decided already, or ``where`` is not its conversation
        (None: a caller that already knows the request, such as a test or the inspector)."""

    async def refuse_unseen(self, request_id: str) -> ApprovalAnswer:
        """Deny the request at once because none of its approvers can see its conversation
        (``approvers_see`` said so before its prompt was shown); its conversation is told,
        as of any decision."""


def approvers_see(request: ApprovalRequest, members: Collection[str] | None) -> bool:
    """Whether one of the request's approvers can see its conversation, and so its prompt:
    in a DM, only the person it is with; elsewhere, one of the channel's ``members`` (None:
    not known, or anyone may look, as in a public channel). Showing the prompt to anyone
    else would show them words of a conversation they may not read."""
    audience = request.inbound.audience
    if audience.kind is AudienceKind.DM:
        return audience.user in request.approvers
    return members is None or any(approver in members for approver in request.approvers)


class ApprovedCalls(Protocol):
    """Runs an approved call as its agent would have (the agent runtime)."""

    async def run_approved(self, request: ApprovalRequest) -> ToolOutcome: ...


class ApprovalDesk:
    """``ApprovalPort`` over a store; resumed conversations go through ``intake``."""

    def __init__(
        self,
        store: Store,
        calls: ApprovedCalls,
        intake: IntakePort,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._store = store
        self._calls = calls
        self._intake = intake
        self._clock = clock

    async def decide_approval(
        self, request_id: str, user: str, approve: bool, where: PressedIn | None = None
    ) -> ApprovalAnswer:
        request = await self._store.approvals.get(request_id)
        if request is None:
            return ApprovalAnswer(DecisionOutcome.UNKNOWN, "I can't find that request any more.")
        if where is not None and not where.holds(request):
            text = "That request was made in another conversation; nothing was decided."
            return ApprovalAnswer(DecisionOutcome.ELSEWHERE, text)
        if request.status is not ApprovalStatus.PENDING:
            return _decided_already(request)
        if not request.may_decide(user):
            who = ", ".join(request.approvers)
            text = f"Only {who} may approve or deny this call of {request.tool}."
            return ApprovalAnswer(DecisionOutcome.NOT_APPROVER, text, request)
        now = self._clock()
        if now >= request.expires_at:
            return await self._expire(request, now) or _decided_already(request)
        status = ApprovalStatus.APPROVED if approve else ApprovalStatus.DENIED
        decided = await self._store.approvals.decide(request.id, status, user, now)
        if decided is None:
            fresh = await self._store.approvals.get(request.id)
            return _decided_already(fresh or request)
        if approve:
            outcome = await self._calls.run_approved(decided)
            await self._store.approvals.keep_result(decided.id, outcome.output)
            decided = dataclasses.replace(decided, result=outcome.output)
        await self._resume(decided)
        answered = DecisionOutcome.APPROVED if approve else DecisionOutcome.DENIED
        return ApprovalAnswer(answered, _settled(decided), decided)

    async def refuse_unseen(self, request_id: str) -> ApprovalAnswer:
        request = await self._store.approvals.get(request_id)
        if request is None:
            return ApprovalAnswer(DecisionOutcome.UNKNOWN, "I can't find that request any more.")
        decided = await self._store.approvals.decide(
            request.id, ApprovalStatus.DENIED, UNSEEN, self._clock()
        )
        if decided is None:
            fresh = await self._store.approvals.get(request.id)
            return _decided_already(fresh or request)
        await self._resume(decided)
        return ApprovalAnswer(DecisionOutcome.DENIED, _settled(decided), decided)

    async def expire_overdue(self, limit: int = EXPIRE_BATCH) -> int:
        """Expire the requests whose time ran out and tell their conversations; how many."""
        now = self._clock()
        expired = 0
        for request in await self._store.approvals.overdue(now, limit):
            if await self._expire(request, now) is not None:
                expired += 1
        return expired

    async def upkeep_due(self, now: datetime) -> bool:
        """Whether ``expire_overdue`` or ``resume_interrupted`` has work at ``now``."""
        approvals = self._store.approvals
        return bool(
            await approvals.overdue(now, 1) or await approvals.unresumed(now - RESUME_AFTER, 1)
        )

    async def resume_interrupted(self, limit: int = EXPIRE_BATCH) -> int:
        """Tell the conversations of requests decided at least ``RESUME_AFTER`` ago that
        were never told (the bot stopped in between); how many."""
        before = self._clock() - RESUME_AFTER
        requests = await self._store.approvals.unresumed(before, limit)
        for request in requests:
            await self._resume(request)
        return len(requests)

    async def _expire(self, request: ApprovalRequest, now: datetime) -> ApprovalAnswer | None:
        decided = await self._store.approvals.decide(request.id, ApprovalStatus.EXPIRED, "", now)
        if decided is None:
            return None
        await self._resume(decided)
        return ApprovalAnswer(DecisionOutcome.EXPIRED, _settled(decided), decided)

    async def _resume(self, request: ApprovalRequest) -> None:
        """Tell the paused conversation what became of the call: a message its agent answers
        (taken once, however often it is sent)."""
        asked = request.inbound
        message = dataclasses.replace(
            asked,
            text=f"[approval of {request.tool} {request.arguments}] {_became(request)}",
            event_id=f"approval:{request.id}",
            message_ref="",
            sent_at=self._clock(),
            respond=True,
            attachments=(),
            past=False,
        )
        result = await self._intake.receive(message)
        log.info("approval %s %s: %s", request.id, request.status.value, result.outcome.value)
        await self._store.approvals.mark_resumed(request.id, self._clock())


def _became(request: ApprovalRequest) -> str:
    """What became of the call, as its conversation is told."""
    by, tool = request.decided_by, request.tool
    match request.status:
        case ApprovalStatus.APPROVED if request.result is None:
            return f"{by} approved {tool}, but the bot stopped while it ran: its result is unknown."
        case ApprovalStatus.APPROVED:
            return f"{by} approved {tool}. Result: {request.result}"
        case ApprovalStatus.DENIED if by == UNSEEN:
            return f"{_unseen(request)} Ask in a conversation one of them is in."
        case ApprovalStatus.DENIED:
            return f"{by} denied {tool}; it did not run."
        case _:
            return f"Nobody approved {tool} in time; it did not run."


def _settled(request: ApprovalRequest) -> str:
    """The prompt's text once decided."""
    match request.status:
        case ApprovalStatus.APPROVED if (request.result or "").startswith(TOOL_ERROR):
            return f"Approved by {request.decided_by}, but {request.tool} failed."
        case ApprovalStatus.APPROVED:
            return f"Approved by {request.decided_by}: {request.tool} ran."
        case ApprovalStatus.DENIED if request.decided_by == UNSEEN:
            return f"{_unseen(request)} Ask for it where one of them can see it."
        case ApprovalStatus.DENIED:
            return f"Denied by {request.decided_by}: {request.tool} did not run."
        case _:
            return f"Expired: nobody approved {request.tool} in time; it did not run."


def _unseen(request: ApprovalRequest) -> str:
    who = ", ".join(request.approvers)
    return (
        f"Denied: {request.tool} needs the approval of {who}, and none of them can see this "
        "conversation, so it did not run."
    )


def _decided_already(request: ApprovalRequest) -> ApprovalAnswer:
    return ApprovalAnswer(
        DecisionOutcome.DECIDED_ALREADY, f"Already decided. {_settled(request)}", request
    )
