"""Message shortcuts: "Remember this" keeps a message in archival memory with its channel's
audience; "Forget this" forgets a message the person wrote and what was derived from it.

Who may read what is kept comes from the channel, as for every message (``SlackDirectory``):
a public channel's message is kept for the workspace, a private channel's (or another
organisation's message, in Slack Connect) for that channel only. A message in a channel the
bot cannot see has no audience Mnemo can tell, so nothing is kept (a DM between people is the
exception: kept for the person who asked, in their DMs with the agent only). Every answer is
visible to the person who chose the shortcut alone.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from adapters.readers import readers
from adapters.slack.answers import answer_privately, team_of_action
from adapters.slack.content import plain_text, text_of
from adapters.slack.directory import SlackDirectory
from adapters.slack.events import from_another_org, workspace_id
from adapters.slack.payloads import MalformedEvent, MessageShortcut, read_message_shortcut
from adapters.slack.timestamps import sent_at_of
from engine import (
    JSON,
    Audience,
    AudienceKind,
    PlatformMessage,
    UserMemory,
    render_forget,
    utcnow,
)

log = logging.getLogger(__name__)

REMEMBER_MESSAGE = "mnemo_remember_message"
FORGET_MESSAGE = "mnemo_forget_message"
UNREADABLE = "I could not read that message; nothing changed."


class MessageShortcuts:
    """The two message shortcuts of the agent ``agent_id``."""

    def __init__(
        self,
        memory: UserMemory,
        agent_id: str,
        reject: Callable[[JSON, str], Awaitable[None]],
        directory: SlackDirectory | None = None,
    ) -> None:
        self._memory = memory
        self._agent_id = agent_id
        self._reject = reject
        self._directory = directory or SlackDirectory()

    async def chosen(
        self, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        """Either shortcut chosen on a message; the answer goes to the person alone."""
        pointed = await self._pointed_at(body, client, respond)
        if pointed is None:
            return
        shortcut, message = pointed
        act = self._remember if shortcut["callback_id"] == REMEMBER_MESSAGE else self._forget
        await answer_privately(respond, body, await act(shortcut, message, client))

    async def _remember(
        self, shortcut: MessageShortcut, message: PlatformMessage, client: AsyncWebClient
    ) -> str:
        team, asker = team_of_action(shortcut), shortcut["user"]["id"]
        channel = await self._directory.channel(client, team, message.channel, "")
        if shortcut["channel"]["id"].startswith("D") and not channel.known:
            # A DM between people: theirs to keep, for the one who asked, in our DMs only.
            audience = Audience(message.workspace, AudienceKind.DM, message.channel, asker)
        elif not channel.known:
            log.info("slack message %s not kept: its channel cannot be seen", message.ref)
            return (
                "I can't see this channel, so I can't tell who may read it: I kept nothing. "
                "Invite me to the channel, or tell me in our DM."
            )
        else:
            kind = channel.kind
            if kind is AudienceKind.PUBLIC and from_another_org(shortcut["message"], team):
                # Slack Connect: another organisation's words stay in the channel they were in.
                kind = AudienceKind.PRIVATE
            user = asker if kind is AudienceKind.DM else None
            audience = Audience(message.workspace, kind, message.channel, user)
        if not message.text:
            return "That message has no text I can keep."
        if not await self._memory.remember_message(self._agent_id, audience, message, asker):
            return "I already keep that message."
        return f"Kept. {readers(audience.kind)}."

    async def _forget(
        self, shortcut: MessageShortcut, message: PlatformMessage, client: AsyncWebClient
    ) -> str:
        removed = await self._memory.forget_message(message, shortcut["user"]["id"])
        if removed is None:
            return "I can only forget messages you wrote."
        if not removed.total:
            return "I kept nothing from that message."
        log.info("forgot slack message %s: %d records", message.ref, removed.total)
        return f"Forgotten: that message and what I took from it ({render_forget(removed)})."

    async def _pointed_at(
        self, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> tuple[MessageShortcut, PlatformMessage] | None:
        """The shortcut and the message it was chosen on; None (and the person told) when
        they cannot be read."""
        try:
            shortcut = read_message_shortcut(body)
        except MalformedEvent as error:
            await self._reject(body, str(error))
            shortcut = None
        said = shortcut["message"] if shortcut is not None else {}
        team = team_of_action(shortcut) if shortcut is not None else ""
        author, ts = said.get("user") or said.get("bot_id") or "", said.get("ts", "")
        if shortcut is None or not (team and author and ts):
            await answer_privately(respond, body, UNREADABLE)
            return None
        name = await self._directory.user_name(client, team, author)
        message = PlatformMessage(
            workspace=workspace_id(team),
            channel=shortcut["channel"]["id"],
            ref=ts,
            author=author,
            author_name=name,
            text=plain_text(text_of(said), ""),
            sent_at=sent_at_of(ts, utcnow()),
        )
        return shortcut, message
