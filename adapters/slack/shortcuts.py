"""Message shortcuts: "Remember this" keeps a message in archival memory with its channel's
audience; "Forget this" forgets a message the person wrote and what was derived from it.

Who may read what is kept comes from the channel, as for every message (``SlackDirectory``):
a public channel's message is kept for the workspace, a private channel's for that channel
only. A message in a channel the bot cannot see has no audience Mnemo can tell, so nothing is
kept (a DM between people is the exception: kept for the person who asked, in their DMs with
the agent only). Every answer is visible to the person who chose the shortcut alone.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.answers import answer_privately, team_of_action
from adapters.slack.content import plain_text, text_of
from adapters.slack.directory import SlackDirectory
from adapters.slack.events import workspace_id
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
_READERS = {
    AudienceKind.DM: "only in our DMs",
    AudienceKind.PRIVATE: "only in this private channel",
    AudienceKind.PUBLIC: "with everyone in this workspace",
}


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

    async def remember(
        self, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        pointed = await self._pointed_at(body, client)
        if pointed is None:
            await answer_privately(respond, body, UNREADABLE)
            return
        shortcut, message = pointed
        team, asker = team_of_action(shortcut), shortcut["user"]["id"]
        channel = await self._directory.channel(client, team, message.channel, "")
        if shortcut["channel"]["id"].startswith("D") and not channel.known:
            # A DM between people: theirs to keep, for the one who asked, in our DMs only.
            audience = Audience(message.workspace, AudienceKind.DM, message.channel, asker)
        elif not channel.known:
            log.info("slack message %s not kept: its channel cannot be seen", message.ref)
            await answer_privately(
                respond,
                body,
                "I can't see this channel, so I can't tell who may read it: I kept nothing. "
                "Invite me to the channel, or tell me in our DM.",
            )
            return
        else:
            user = asker if channel.kind is AudienceKind.DM else None
            audience = Audience(message.workspace, channel.kind, message.channel, user)
        if not message.text:
            await answer_privately(respond, body, "That message has no text I can keep.")
            return
        kept = await self._memory.remember_message(self._agent_id, audience, message, asker)
        answer = (
            f"Kept. I'll use it {_READERS[audience.kind]}."
            if kept
            else "I already keep that message."
        )
        await answer_privately(respond, body, answer)

    async def forget(
        self, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        pointed = await self._pointed_at(body, client)
        if pointed is None:
            await answer_privately(respond, body, UNREADABLE)
            return
        shortcut, message = pointed
        removed = await self._memory.forget_message(message, shortcut["user"]["id"])
        if removed is None:
            answer = "I can only forget messages you wrote."
        elif not removed.total:
            answer = "I kept nothing from that message."
        else:
            log.info("forgot slack message %s: %d records", message.ref, removed.total)
            answer = f"Forgotten: that message and what I took from it ({render_forget(removed)})."
        await answer_privately(respond, body, answer)

    async def _pointed_at(
        self, body: dict[str, Any], client: AsyncWebClient
    ) -> tuple[MessageShortcut, PlatformMessage] | None:
        """The shortcut and the message it was chosen on; None when they cannot be read."""
        try:
            shortcut = read_message_shortcut(body)
        except MalformedEvent as error:
            await self._reject(body, str(error))
            return None
        said, team = shortcut["message"], team_of_action(shortcut)
        author, ts = said.get("user") or said.get("bot_id") or "", said.get("ts", "")
        if not (team and author and ts):
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
