"""Approve / Deny buttons for tool calls that wait for a person (Block Kit).

The prompt is posted in the paused conversation and names its approvers; each button carries
the request's id, so a press needs no state in the adapter. Once decided, the prompt is
replaced by what was decided; a press by someone else, or after the decision, gets a private
answer and changes nothing. A request none of whose approvers can see its conversation (a DM
with someone else, a private channel none of them is in) is denied at once, and the
conversation is told why: showing them the prompt elsewhere would show them words of a
conversation they may not read.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncRespond
from slack_sdk.errors import SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.answers import (
    answer_privately,
    answerable,
    pressed_in,
    read_press,
    team_of_action,
)
from adapters.slack.blocks import button
from adapters.slack.clients import WorkspaceClients
from adapters.slack.config import PLATFORM
from adapters.slack.events import team_of
from adapters.slack.formatting import escape
from adapters.slack.streaming import notice_metadata
from engine import JSON, ApprovalPort, ApprovalRequest, AudienceKind, approvers_see

log = logging.getLogger(__name__)

APPROVE = "mnemo_approve"
DENY = "mnemo_deny"
UNREADABLE = "I could not read that button; nothing was decided."
#: Pages of a private channel's members read to find an approver among them.
_MEMBER_PAGES = 10
#: Characters of the call's arguments shown on the prompt.
SHOWN_ARGUMENTS = 1_500


def approval_blocks(request: ApprovalRequest) -> list[dict[str, Any]]:
    """The prompt: what the agent wants to run, with what, who may decide, and the buttons."""
    arguments = request.arguments
    if len(arguments) > SHOWN_ARGUMENTS:
        arguments = arguments[:SHOWN_ARGUMENTS] + "…"
    # Escaped: the model wrote them, and they must neither mention nor link anyone.
    arguments = escape(arguments)
    who = ", ".join(f"<@{user}>" for user in request.approvers)
    until = int(request.expires_at.timestamp())
    text = (
        f"*Approval needed:* the agent wants to run `{request.tool}` with\n```{arguments}```\n"
        f"{who} may approve or deny it until "
        f"<!date^{until}^{{date_short_pretty}} {{time}}|{request.expires_at:%Y-%m-%d %H:%M} UTC>."
    )

    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": text}},
        {
            "type": "actions",
            "elements": [
                button(APPROVE, "Approve", value=request.id, style="primary"),
                button(DENY, "Deny", value=request.id, style="danger"),
            ],
        },
    ]


class SlackApprovals:
    """Posts approval prompts (an ``ApprovalPrompter``) and decides on their buttons."""

    platform = PLATFORM

    def __init__(
        self,
        agent_id: str,
        approvals: ApprovalPort,
        clients: WorkspaceClients,
        reject: Callable[[JSON, str], Awaitable[None]],
    ) -> None:
        #: The agent this app speaks as: it shows only that agent's requests.
        self.agent_id = agent_id
        self._approvals = approvals
        self._clients = clients
        self._reject = reject

    async def ask_approval(self, request: ApprovalRequest) -> None:
        """Post the prompt in the request's conversation; where none of its approvers can
        see that conversation, deny it at once and say so there instead."""
        client = await self._clients.for_team(team_of(request.workspace))
        text = f"Approval needed: the agent wants to run {request.tool}."
        blocks: list[dict[str, Any]] | None = approval_blocks(request)
        if not approvers_see(request, await _members(client, request)):
            text, blocks = (await self._approvals.refuse_unseen(request.id)).text, None
        await client.chat_postMessage(
            channel=request.channel,
            thread_ts=request.thread or None,
            text=text,
            blocks=blocks,
            metadata=notice_metadata("approval"),
        )

    async def pressed(self, body: dict[str, Any], respond: AsyncRespond) -> None:
        press = await read_press(body, respond, self._reject, UNREADABLE)
        if press is None:
            return
        action = press["actions"][0]
        request_id = action.get("value", "")
        if not request_id:
            await answer_privately(respond, body, UNREADABLE)
            return
        approve = action.get("action_id") == APPROVE
        where = pressed_in(body, team_of_action(press), self.agent_id)
        answer = await self._approvals.decide_approval(
            request_id, press["user"]["id"], approve, where
        )
        if not answer.changed:
            await answer_privately(respond, body, answer.text)
            return
        await _replace_prompt(respond, body, answer.text)


async def _replace_prompt(respond: AsyncRespond, body: dict[str, Any], text: str) -> None:
    """Show what was decided in place of the buttons, so nobody presses them again."""
    if not answerable(body):
        return
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    try:
        await respond(
            text=text, blocks=blocks, replace_original=True, metadata=notice_metadata("approval")
        )
    except (SlackClientError, aiohttp.ClientError, OSError, TimeoutError) as error:
        log.info("replacing an approval prompt failed: %r", error)


async def _members(client: AsyncWebClient, request: ApprovalRequest) -> set[str] | None:
    """The members of the request's private channel; None where anyone of the workspace may
    look (a public channel), for a DM (its person is known), or when Slack would not say."""
    if request.inbound.audience.kind is not AudienceKind.PRIVATE:
        return None
    members: set[str] = set()
    cursor: str | None = None
    try:
        for _ in range(_MEMBER_PAGES):
            response = await client.conversations_members(
                channel=request.channel, limit=1_000, cursor=cursor
            )
            members.update(str(member) for member in response.get("members") or ())
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not cursor or members.intersection(request.approvers):
                return members
    except (SlackClientError, aiohttp.ClientError, OSError, TimeoutError) as error:
        log.info("approval %s: the channel's members are unknown (%r)", request.id, error)
    return None
