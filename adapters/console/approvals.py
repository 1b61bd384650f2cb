"""Approvals in the terminal chat: the prompt is printed, and ``/approve`` or ``/deny`` (with a
request's id, or alone for the newest) decides it as the person typing."""

from __future__ import annotations

import sys
from typing import TextIO

from adapters.console.chat import PLATFORM
from engine import ApprovalPort, ApprovalRequest, DecisionOutcome, PressedIn

APPROVE, DENY = "/approve", "/deny"


class ConsoleApprovals:
    """Prints approval prompts (an ``ApprovalPrompter``) and decides typed answers."""

    platform = PLATFORM
    agent_id = ""

    def __init__(self, approvals: ApprovalPort, out: TextIO = sys.stdout) -> None:
        self._approvals = approvals
        self._out = out
        #: Requests shown in this session and not decided yet, oldest first.
        self._shown: list[str] = []

    async def ask_approval(self, request: ApprovalRequest) -> None:
        self._shown.append(request.id)
        self._out.write(
            f"\n[approval {request.id}] the agent wants to run {request.tool} with "
            f"{request.arguments}. Type {APPROVE} or {DENY} (approvers: "
            f"{', '.join(request.approvers)}; expires {request.expires_at:%H:%M} UTC).\n"
        )
        self._out.flush()

    async def answer(self, line: str, user: str) -> bool:
        """Decide a request when ``line`` is ``/approve`` or ``/deny``; False for other lines."""
        command, _, named = line.strip().partition(" ")
        if command not in (APPROVE, DENY):
            return False
        request_id = named.strip() or (self._shown[-1] if self._shown else "")
        if not request_id:
            self._out.write("(no request is waiting for approval)\n")
            return True
        answer = await self._approvals.decide_approval(
            request_id, user, command == APPROVE, PressedIn(PLATFORM)
        )
        if answer.outcome is not DecisionOutcome.NOT_APPROVER and request_id in self._shown:
            self._shown.remove(request_id)
        self._out.write(f"({answer.text})\n")
        return True
