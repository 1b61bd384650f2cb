"""Approve / Deny buttons for tool calls that wait for a person, on Discord.

Each button's id carries the request's id (``mnemo:approval:approve:<id>``) and is answered
by a dynamic item, so buttons posted before a restart still work. Once decided, the prompt is
edited to say what was decided and loses its buttons; a press by someone else, or after the
decision, gets an ephemeral answer and changes nothing. A request made in a DM with someone
who is not one of its approvers is denied at once, and the DM is told why: none of them can
see it, and showing them the prompt elsewhere would show them words of that DM.
"""

from __future__ import annotations

import logging
import re
from typing import Any, ClassVar

import discord

from engine import ApprovalPort, ApprovalRequest, PressedIn, approvers_see

log = logging.getLogger(__name__)

PLATFORM = "discord"
APPROVE, DENY = "approve", "deny"
TEMPLATE = r"mnemo:approval:(?P<verb>approve|deny):(?P<request>[A-Za-z0-9._:-]+)"
#: Characters of the call's arguments shown on the prompt.
SHOWN_ARGUMENTS = 1_200


def approval_text(request: ApprovalRequest) -> str:
    arguments = request.arguments
    if len(arguments) > SHOWN_ARGUMENTS:
        arguments = arguments[:SHOWN_ARGUMENTS] + "…"
    # The model wrote them: a zero-width space after each backtick keeps them from closing
    # the code block and showing text (a link) as the bot's own.
    arguments = arguments.replace("`", "`\u200b")
    who = ", ".join(f"<@{user}>" for user in request.approvers)
    until = int(request.expires_at.timestamp())
    return (
        f"**Approval needed:** the agent wants to run `{request.tool}` with\n"
        f"```json\n{arguments}\n```\n{who} may approve or deny it until <t:{until}:f>."
    )


class DiscordApprovals:
    """Posts approval prompts (an ``ApprovalPrompter``) and decides on their buttons."""

    platform = PLATFORM

    def __init__(self, client: discord.Client, agent_id: str, approvals: ApprovalPort) -> None:
        #: The agent this bot speaks as: it shows only that agent's requests.
        self.agent_id = agent_id
        self._client = client
        self._approvals = approvals
        self._button = _button_type(approvals, agent_id)
        client.add_dynamic_items(self._button)

    async def ask_approval(self, request: ApprovalRequest) -> None:
        target = self._client.get_partial_messageable(int(request.thread or request.channel))
        # Who may read a server's private channel is not known here: its prompt is shown.
        if not approvers_see(request, None):
            answer = await self._approvals.refuse_unseen(request.id)
            await target.send(answer.text, allowed_mentions=discord.AllowedMentions.none())
            return
        view = discord.ui.View(timeout=None)
        view.add_item(self._button(APPROVE, request.id))
        view.add_item(self._button(DENY, request.id))
        mentioned = [discord.Object(int(user)) for user in request.approvers if user.isdigit()]
        await target.send(
            approval_text(request),
            view=view,
            allowed_mentions=discord.AllowedMentions(users=mentioned, everyone=False, roles=False),
        )


class ApprovalButton(discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]], template=TEMPLATE):
    """Approve or Deny of one request; each bot has its own subclass (``_button_type``)."""

    approvals: ClassVar[ApprovalPort]
    #: The agent this bot speaks as.
    agent_id: ClassVar[str]

    def __init__(self, verb: str, request_id: str) -> None:
        approve = verb == APPROVE
        super().__init__(
            discord.ui.Button(
                label="Approve" if approve else "Deny",
                style=discord.ButtonStyle.success if approve else discord.ButtonStyle.danger,
                custom_id=f"mnemo:approval:{verb}:{request_id}",
            )
        )
        self.approve = approve
        self.request_id = request_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> ApprovalButton:
        return cls(match["verb"], match["request"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        user = str(interaction.user.id)
        # Channel (and thread) ids are unique across Discord: the channel names the place.
        where = PressedIn(
            PLATFORM, channel=str(interaction.channel_id or "?"), agent_id=self.agent_id
        )
        answer = await self.approvals.decide_approval(self.request_id, user, self.approve, where)
        try:
            if answer.changed:
                await interaction.response.edit_message(content=answer.text, view=None)
            else:
                await interaction.response.send_message(answer.text, ephemeral=True)
        except discord.HTTPException as failure:
            log.info("answering an approval press failed: %r", failure)


def _button_type(port: ApprovalPort, agent: str) -> type[ApprovalButton]:
    """The buttons of one bot, deciding through ``port``."""

    class BotApprovalButton(ApprovalButton, template=TEMPLATE):
        approvals = port
        agent_id = agent

    return BotApprovalButton
