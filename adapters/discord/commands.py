"""Slash commands that give users control over their memory: /memory, /forget, /export, /why.

Each is answered only to the user who ran it (ephemeral) and deferred at once, inside
Discord's 3 seconds, before the engine is asked. In a server they act on what that server's
memory keeps about the user; in DMs on what the user's DMs keep; where the bot is not a member
(a user install, see ``user_install``) on what the user's DMs keep. /why answers for the
audience of the channel it is asked in: asked in a public channel, it never shows what a DM
taught.
"""

from __future__ import annotations

import io
import logging
from typing import Any

import discord
from discord import app_commands

from adapters.discord.audience import (
    UnmappableChannel,
    conversation_of,
    dm_workspace,
    guild_workspace,
)
from adapters.discord.forget_view import ForgetChoice
from adapters.discord.memory_view import MemoryControls, render_items
from adapters.discord.user_install import (
    CONTEXTS,
    INSTALLS,
    is_foreign,
    own_audience,
    place_of,
)
from engine import Audience, AudienceKind, UserMemory, UserMemoryReport, render_why

log = logging.getLogger(__name__)

#: Room for a /memory answer (Discord's 2,000-character limit, less the closing note).
REPORT_LIMIT = 1800


def workspace_of(interaction: discord.Interaction) -> str:
    if interaction.guild_id is not None and not is_foreign(interaction):
        return guild_workspace(interaction.guild_id)
    return dm_workspace(interaction.user.id)


def audience_of(interaction: discord.Interaction) -> Audience:
    """Who can read the channel a command was run in (a server channel whose audience cannot
    be known reads as public, the audience that reads least)."""
    user = interaction.user.id
    channel_id = str(interaction.channel_id or "")
    if is_foreign(interaction):
        return own_audience(user)
    if interaction.guild_id is None:
        return Audience(dm_workspace(user), AudienceKind.DM, channel_id, str(user))
    try:
        audience, _ = conversation_of(interaction.channel, user)
    except UnmappableChannel:
        return Audience(guild_workspace(interaction.guild_id), AudienceKind.PUBLIC, channel_id)
    return audience


async def answer_command_error(
    interaction: discord.Interaction, error: app_commands.AppCommandError
) -> None:
    """The command tree's error handler: a command this bot does not have (one Discord still
    lists from an older version, or a forged name) gets a short answer instead of an error
    log and "the application did not respond"; any other failure is logged."""
    if not isinstance(error, app_commands.CommandNotFound):
        log.error("discord command failed: %s", error, exc_info=error)
        return
    log.warning("discord command not found: %.100s", error.name)
    if interaction.response.is_done():
        return
    try:
        await interaction.response.send_message(
            "I don't have that command: try /memory, /forget, /export or /why.", ephemeral=True
        )
    except discord.HTTPException as failure:
        log.info("answering an unknown discord command failed: %r", failure)


def user_memory_commands(memory: UserMemory) -> list[app_commands.Command[Any, ..., None]]:
    """The four commands, bound to the engine's user-memory port."""

    async def show_memory(interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        workspace, user = workspace_of(interaction), interaction.user.id
        report = await memory.about_user(workspace, str(user))
        items = await memory.memory_items(workspace, str(user))
        listing = f"\n\n{render_items(items)}" if items else ""
        text = render_report(report, place_of(interaction), REPORT_LIMIT - len(listing))
        controls = MemoryControls(memory, workspace, user, items)
        await interaction.followup.send(text + listing, view=controls, ephemeral=True, wait=True)

    async def forget(interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        workspace, user = workspace_of(interaction), interaction.user.id
        items = await memory.memory_items(workspace, str(user))
        one = "Choose one thing to forget, or forget " if items else "Forget "
        await interaction.followup.send(
            f"{one}everything I keep about you {place_of(interaction)}: your memory blocks, "
            "the facts I saved and your messages. It cannot be undone.",
            view=ForgetChoice(memory, workspace, user, items),
            ephemeral=True,
            wait=True,
        )

    @app_commands.describe(words="The fact or topic, e.g. Ann's birthday")
    async def why(interaction: discord.Interaction, words: str) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        found = await memory.why(audience_of(interaction), words)
        await interaction.followup.send(_clipped(render_why(words, found)), ephemeral=True)

    async def export(interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        user = str(interaction.user.id)
        document = await memory.export_user(workspace_of(interaction), user)
        attachment = discord.File(io.BytesIO(document), filename=f"mnemo-memory-{user}.json")
        await interaction.followup.send(
            f"Everything I keep about you {place_of(interaction)}:",
            file=attachment,
            ephemeral=True,
        )

    described = [
        ("memory", "See what I remember about you (only you see the answer).", show_memory),
        ("forget", "Delete one thing I keep about you, or everything (asks first).", forget),
        ("export", "Download everything I keep about you as a JSON file.", export),
    ]
    commands: list[app_commands.Command[Any, ..., None]] = [
        app_commands.Command(
            name=name,
            description=description,
            callback=callback,
            allowed_contexts=CONTEXTS,
            allowed_installs=INSTALLS,
        )
        for name, description, callback in described
    ]
    explain = "What I remember about some words, and who said it where (only you see it)."
    commands.append(
        app_commands.Command(
            name="why",
            description=explain,
            callback=why,
            allowed_contexts=CONTEXTS,
            allowed_installs=INSTALLS,
        )
    )
    return commands


def render_report(report: UserMemoryReport, place: str = "here", limit: int = REPORT_LIMIT) -> str:
    """A /memory answer that fits one Discord message (``limit`` characters)."""
    lines = [f"**What I keep about you {place}**"]
    if report.blocks:
        lines.append("Core memory:")
        lines.extend(
            f"- {label} ({scope.visibility}): {text}" for label, scope, text in report.blocks
        )
    if report.passages:
        lines.append(f"Saved facts ({len(report.passages)}):")
        lines.extend(f"- {passage}" for passage in report.passages)
    lines.append(f"Messages in my history: {report.messages}")
    if not report.blocks and not report.passages:
        lines.insert(1, "No memory blocks or saved facts.")
    return _clipped("\n".join(lines), "use /export for everything", limit)


def _clipped(
    text: str, rest: str = "ask about fewer words for the rest", limit: int = REPORT_LIMIT
) -> str:
    if len(text) <= limit:
        return text
    return text[:limit].rstrip() + f"\n… ({rest})"
