"""``/mnemo memory | forget | export``: users see, delete and download what Mnemo keeps
about them. Every answer is shown only to the user who asked (ephemeral or in their DM)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext, AsyncRespond
from slack_sdk.errors import SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.answers import answerable, team_of_action
from adapters.slack.directory import SlackDirectory
from adapters.slack.events import workspace_id
from adapters.slack.formatting import escape, to_mrkdwn
from adapters.slack.memory_menus import forget_blocks
from adapters.slack.payloads import (
    MalformedEvent,
    SlashCommand,
    read_block_action,
    read_command,
    read_item_choice,
)
from engine import (
    JSON,
    Audience,
    AudienceKind,
    MemoryItem,
    UserMemory,
    UserMemoryReport,
    render_forget,
    render_why,
)

log = logging.getLogger(__name__)

COMMAND = "/mnemo"
#: Slack must have the command's answer within 3 seconds.
REPORT_TIMEOUT_S = 2.5
_REPORT_LIMIT = 3_500

USAGE = (
    "`/mnemo memory`: what I keep about you (only you see it)\n"
    "`/mnemo forget`: delete one thing I keep about you, or everything\n"
    "`/mnemo why <words>`: what I remember about those words, and who said it where\n"
    "`/mnemo export`: a JSON file with everything I keep about you, sent to our DM\n"
    "`/mnemo learn-channel`: (admins) learn this channel's past messages"
)

#: Starts learning the history of the channel a command was typed in; the answer to show.
type LearnChannel = Callable[[SlashCommand, AsyncWebClient, str], Awaitable[str]]


class UserCommands:
    """The ``/mnemo`` command and the buttons of its answers; ``reject`` keeps a payload that
    does not fit Slack's shape, for the operator."""

    def __init__(
        self,
        memory: UserMemory,
        reject: Callable[[JSON, str], Awaitable[None]],
        directory: SlackDirectory | None = None,
        learn_channel: LearnChannel | None = None,
    ) -> None:
        self._memory = memory
        self._reject = reject
        self._directory = directory or SlackDirectory()
        self._learn_channel = learn_channel

    async def acknowledge(self, ack: AsyncAck, command: dict[str, Any]) -> None:
        """Answer at once: the report, the forget menu, or that the export or the why answer
        is coming."""
        read = await self._read(command, read_command)
        if read is None:
            await ack(text="I could not read this command; please try again.")
            return
        workspace, user = workspace_id(read["team_id"]), read["user_id"]
        match _subcommand(read):
            case "memory":
                try:
                    async with asyncio.timeout(REPORT_TIMEOUT_S):
                        report = await self._memory.about_user(workspace, user)
                except TimeoutError:
                    await ack(
                        text="Reading your memory took too long; try again in a moment.",
                        response_type="ephemeral",
                    )
                    return
                await ack(text=render_report(report), response_type="ephemeral")
            case "forget":
                await ack(
                    text="What should I forget?",
                    blocks=forget_blocks(await self._items(workspace, user)),
                    response_type="ephemeral",
                )
            case "why" if _words(read):
                await ack(
                    text=f"Looking for where I learned about “{escape(_words(read))}”…",
                    response_type="ephemeral",
                )
            case "why":
                await ack(
                    text="Say what to explain: `/mnemo why <words>`.", response_type="ephemeral"
                )
            case "export":
                await ack(
                    text="Preparing your export; I'll send it to our DM.", response_type="ephemeral"
                )
            case "learn-channel" if self._learn_channel is not None:
                await ack(text="Looking at this channel's history…", response_type="ephemeral")
            case _:
                await ack(text=USAGE, response_type="ephemeral")

    async def run_export(
        self, command: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        """Upload the user's export to their DM (after the command was acknowledged)."""
        read = await self._read(command, read_command, quiet=True)
        if read is None or _subcommand(read) != "export":
            return
        workspace, user = workspace_id(read["team_id"]), read["user_id"]
        sent = await send_export(self._memory, client, workspace, user)
        if not sent and answerable(command):
            await respond(text="I couldn't send your export; please try again.")

    async def run_learn_channel(
        self,
        command: dict[str, Any],
        client: AsyncWebClient,
        context: AsyncBoltContext,
        respond: AsyncRespond,
    ) -> None:
        """Start learning the channel's history (after the command was acknowledged)."""
        read = await self._read(command, read_command, quiet=True)
        if read is None or _subcommand(read) != "learn-channel" or self._learn_channel is None:
            return
        answer = await self._learn_channel(read, client, context.bot_user_id or "")
        if answerable(command):
            await respond(text=answer, response_type="ephemeral")

    async def forget(self, body: dict[str, Any], respond: AsyncRespond) -> None:
        """Delete everything kept about the user who pressed the confirm button."""
        action = await self._read(body, read_block_action)
        team = team_of_action(action) if action is not None else ""
        if action is None or not team:
            if answerable(body):
                await respond(text="I could not read this request; nothing was deleted.")
            return
        workspace, user = workspace_id(team), action["user"]["id"]
        removed = await self._memory.forget_user(workspace, user)
        log.info("forgot user %s in %s: %d records", user, workspace, removed.total)
        if not answerable(body):
            return
        await respond(
            replace_original=True,
            text=f"Done: I deleted everything I kept about you ({render_forget(removed)}).",
        )

    async def forget_item(self, body: dict[str, Any], respond: AsyncRespond) -> None:
        """Forget the one item the user chose in the menu (only ever one of theirs)."""
        choice = await self._read(body, read_item_choice)
        team = team_of_action(choice) if choice is not None else ""
        chosen = choice["actions"][0].get("selected_option") if choice is not None else None
        if choice is None or not team or not chosen:
            if answerable(body):
                await respond(text="I could not read this choice; nothing was deleted.")
            return
        workspace, user = workspace_id(team), choice["user"]["id"]
        removed = await self._memory.forget_item(workspace, user, chosen["value"])
        log.info("forgot one item of %s in %s: %d records", user, workspace, removed.total)
        if not answerable(body):
            return
        if not removed.total:
            await respond(replace_original=True, text="That was already gone; nothing changed.")
            return
        await respond(replace_original=True, text=f"Forgotten ({render_forget(removed)}).")

    async def run_why(
        self, command: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        """Answer ``/mnemo why <words>`` for the audience of the channel it was typed in."""
        read = await self._read(command, read_command, quiet=True)
        if read is None or _subcommand(read) != "why" or not _words(read):
            return
        audience = await self._audience(read, client)
        found = await self._memory.why(audience, _words(read))
        if answerable(command):
            text = to_mrkdwn(render_why(_words(read), found))
            await respond(text=_clipped(text), response_type="ephemeral")

    async def cancel(self, body: dict[str, Any], respond: AsyncRespond) -> None:
        if answerable(body):
            await respond(replace_original=True, text="Nothing was deleted.")

    async def unknown(self, ack: AsyncAck, command: dict[str, Any]) -> None:
        """Another app's command routed here by mistake: say so instead of failing."""
        await ack(text=f"I only know `{COMMAND}`.", response_type="ephemeral")

    async def _items(self, workspace: str, user: str) -> list[MemoryItem]:
        """The user's items for the forget menu; none when they take too long to list (the
        "everything" button still works)."""
        try:
            async with asyncio.timeout(REPORT_TIMEOUT_S):
                return await self._memory.memory_items(workspace, user)
        except TimeoutError:
            return []

    async def _audience(self, command: SlashCommand, client: AsyncWebClient) -> Audience:
        """Who can read the channel the command was typed in: a DM with the user, else what
        ``conversations.info`` says (private when it cannot tell)."""
        workspace, user = workspace_id(command["team_id"]), command["user_id"]
        channel = command.get("channel_id", "")
        if channel.startswith("D") or command.get("channel_name") == "directmessage":
            return Audience(workspace, AudienceKind.DM, channel, user)
        if not channel:
            return Audience(workspace, AudienceKind.PUBLIC, "")
        found = await self._directory.channel(client, command["team_id"], channel, "")
        if found.kind is AudienceKind.DM:
            return Audience(workspace, AudienceKind.DM, channel, user)
        return Audience(workspace, found.kind, channel, outside=found.shared)

    async def _read[P](
        self, body: dict[str, Any], reader: Callable[[object], P], *, quiet: bool = False
    ) -> P | None:
        """``body`` through ``reader``; None (and, unless ``quiet``, a rejection) when it
        does not fit."""
        try:
            return reader(body)
        except MalformedEvent as error:
            if not quiet:
                await self._reject(body, str(error))
            return None


async def send_export(
    memory: UserMemory, client: AsyncWebClient, workspace: str, user: str
) -> bool:
    """Upload everything kept about ``user`` to their DM as a JSON file; False when Slack
    refused it."""
    try:
        document = await memory.export_user(workspace, user)
        opened = await client.conversations_open(users=user)
        await client.files_upload_v2(
            channel=opened["channel"]["id"],
            content=document,
            filename="mnemo-memory.json",
            title="What Mnemo keeps about you",
        )
    except SlackClientError as error:
        log.warning("export upload failed for %s/%s: %r", workspace, user, error)
        return False
    return True


def render_report(report: UserMemoryReport) -> str:
    """The ``/mnemo memory`` answer: notes, archived facts and the message count."""
    lines = ["*What I keep about you in this workspace*"]
    if report.blocks:
        lines.append("*Notes*")
        lines += [f"• ({label}, {scope.visibility}) {text}" for label, scope, text in report.blocks]
    if report.passages:
        lines.append("*Facts I archived*")
        lines += [f"• {text}" for text in report.passages]
    lines.append(f"*Messages*: {report.messages} of yours in my recall.")
    if not report.blocks and not report.passages and not report.messages:
        lines = ["I keep nothing about you."]
    text = "\n".join(lines)
    if len(text) > _REPORT_LIMIT:
        text = text[:_REPORT_LIMIT] + "\n… (`/mnemo export` has everything)"
    return text


def _subcommand(command: SlashCommand) -> str:
    words = command.get("text", "").split()
    return words[0].lower() if words else ""


def _words(command: SlashCommand) -> str:
    """What follows the subcommand: ``/mnemo why <words>``."""
    parts = command.get("text", "").split(maxsplit=1)
    return parts[1].strip() if len(parts) > 1 else ""


def _clipped(text: str) -> str:
    if len(text) <= _REPORT_LIMIT:
        return text
    return text[:_REPORT_LIMIT] + "\n… (ask about fewer words for the rest)"
