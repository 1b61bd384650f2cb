"""Tool calls waiting for a person's approval, kept so a paused turn survives a restart.

A request is created pending and decided once: approved, denied or expired. Every change is a
compare-and-set on the pending status, so two presses of a button, or two replicas, decide it
once and the tool runs at most once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from engine.records import Inbound


class ApprovalStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class ApprovalRequest:
    """One tool call an agent made that waits for (or got) a person's decision."""

    id: str
    agent_id: str
    workspace: str
    channel: str
    thread: str
    #: The tool as the agent called it, and its arguments exactly as the model sent them.
    tool: str
    arguments: str
    #: Who asked (the speaker of the turn) and who may decide.
    requester: str
    approvers: tuple[str, ...]
    #: The message the paused turn answered: its audience and platform run the approved call.
    inbound: Inbound
    created_at: datetime
    expires_at: datetime
    status: ApprovalStatus = ApprovalStatus.PENDING
    decided_by: str = ""
    decided_at: datetime | None = None
    #: The stored message the paused turn began with: what the approved call writes derives
    #: from it (lineage), so forgetting its author forgets that too.
    source: str = ""
    #: What the approved call answered, kept before its conversation is told; None while
    #: it has not run (or when the bot stopped while it ran).
    result: str | None = None
    #: When the conversation was told what became of the call; None until then.
    resumed_at: datetime | None = None

    def may_decide(self, user: str) -> bool:
        return user in self.approvers


class ApprovalStore(Protocol):
    async def put(self, request: ApprovalRequest) -> bool:
        """Keep a new pending request; False (nothing changed) when its id is taken, as when
        a turn that paused runs again after a crash."""

    async def get(self, request_id: str) -> ApprovalRequest | None: ...

    async def decide(
        self, request_id: str, status: ApprovalStatus, by: str, at: datetime
    ) -> ApprovalRequest | None:
        """Move a pending request to ``status``; the decided request, or None when it was not
        pending (decided already, by this call's twin or another replica) or is unknown."""

    async def overdue(self, now: datetime, limit: int) -> list[ApprovalRequest]:
        """Pending requests whose time ran out by ``now``, oldest first."""

    async def keep_result(self, request_id: str, result: str) -> None:
        """Keep what the approved call answered."""

    async def mark_resumed(self, request_id: str, at: datetime) -> None:
        """The conversation was told what became of the call."""

    async def unresumed(self, decided_before: datetime, limit: int) -> list[ApprovalRequest]:
        """Requests decided before ``decided_before`` whose conversation was never told (the
        bot stopped in between), oldest first."""

    async def of_user(self, workspace: str, user: str) -> list[ApprovalRequest]:
        """The requests ``delete_user`` would forget, oldest first (for their export)."""

    async def delete_user(self, workspace: str, user: str) -> int:
        """Forget the requests ``user`` made in ``workspace`` or that were made in their DMs
        (they hold what was said); how many there were."""

    async def delete_sources(self, sources: Sequence[str]) -> int:
        """Forget the requests made by the turns that began with these messages (``source``):
        their arguments were written from what those turns read; how many there were."""
