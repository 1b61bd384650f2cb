"""Slash commands that give users control over their memory: /memory, /forget, /export.

Each is answered only to the user who ran it (ephemeral) and deferred at once, inside
Discord's 3 seconds, before the engine is asked. In a server they act on what that server's
memory keeps about the user; in DMs on what the user's DMs keep.
"""

from __future__ import annotations

import io
import logging
from typing import Any

import discord
from discord import app_commands

from adapters.discord.audience import dm_workspace, guild_workspace
from engine import UserMemory, UserMemoryReport, render_forget

log = logging.getLogger(__name__)

#: Room for a /memory answer (Discord's 2,000-character limit, less the closing note).
REPORT_LIMIT = 1800
#: How long the /forget buttons stay usable.
CONFIRM_TIMEOUT = 120.0
EVERYWHERE = app_commands.AppCommandContext(guild=True, dm_channel=True, private_channel=False)


def workspace_of(interaction: discord.Interaction) -> str:
    if interaction.guild_id is not None:
        return guild_workspace(interaction.guild_id)
    return dm_workspace(interaction.user.id)


def user_memory_commands(memory: UserMemory) -> list[app_commands.Command[Any, ..., None]]:
    """The three commands, bound to the engine's user-memory port."""

    async def show_memory(interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        report = await memory.about_user(workspace_of(interaction), str(interaction.user.id))
        await interaction.followup.send(render_report(report), ephemeral=True)

    async def forget(interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        confirmation = ForgetConfirmation(memory, workspace_of(interaction), interaction.user.id)
        await interaction.followup.send(
            "This deletes everything I keep about you here: your memory blocks, the facts "
            "I saved and your messages. It cannot be undone. Go ahead?",
            view=confirmation,
            ephemeral=True,
            wait=True,
        )

    async def export(interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        user = str(interaction.user.id)
        document = await memory.export_user(workspace_of(interaction), user)
        attachment = discord.File(io.BytesIO(document), filename=f"mnemo-memory-{user}.json")
        await interaction.followup.send(
            "Everything I keep about you here:", file=attachment, ephemeral=True
        )

    described = [
        ("memory", "See what I remember about you (only you see the answer).", show_memory),
        ("forget", "Delete everything I keep about you (asks first).", forget),
        ("export", "Download everything I keep about you as a JSON file.", export),
    ]
    return [
        app_commands.Command(
            name=name, description=description, callback=callback, allowed_contexts=EVERYWHERE
        )
        for name, description, callback in described
    ]


def render_report(report: UserMemoryReport) -> str:
    """A /memory answer that fits one Discord message."""
    lines = ["**What I keep about you here**"]
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
    text = "\n".join(lines)
    if len(text) <= REPORT_LIMIT:
        return text
    return text[:REPORT_LIMIT].rstrip() + "\n… (use /export for everything)"


class ForgetConfirmation(discord.ui.View):
    """The "are you sure?" buttons of /forget; only the user who asked may press them."""

    def __init__(self, memory: UserMemory, workspace: str, user_id: int) -> None:
        super().__init__(timeout=CONFIRM_TIMEOUT)
        self._memory = memory
        self._workspace = workspace
        self._user_id = user_id

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id == self._user_id:
            return True
        await interaction.response.send_message(
            "Only the person who ran /forget can answer this.", ephemeral=True
        )
        return False

    @discord.ui.button(
        label="Forget everything",
        style=discord.ButtonStyle.danger,
        custom_id="mnemo:forget:confirm",
    )
    async def confirm(
        self, interaction: discord.Interaction, _: discord.ui.Button[ForgetConfirmation]
    ) -> None:
        self.stop()
        await interaction.response.edit_message(content="Forgetting…", view=None)
        removed = await self._memory.forget_user(self._workspace, str(self._user_id))
        log.info("forgot user %s in %s: %d records", self._user_id, self._workspace, removed.total)
        await interaction.edit_original_response(
            content=f"Done: I deleted what I kept about you here: {render_forget(removed)}."
        )

    @discord.ui.button(
        label="Cancel", style=discord.ButtonStyle.secondary, custom_id="mnemo:forget:cancel"
    )
    async def cancel(
        self, interaction: discord.Interaction, _: discord.ui.Button[ForgetConfirmation]
    ) -> None:
        self.stop()
        await interaction.response.edit_message(content="Nothing was deleted.", view=None)
