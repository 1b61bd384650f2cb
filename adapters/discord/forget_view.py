"""The ``/forget`` answer: a menu of the user's items to forget one, and the buttons to forget
everything or nothing. Only the user who ran ``/forget`` may use it.

Discord allows 25 options per menu and 100 characters per option's label and value; the
newest 25 items are offered (``/export`` lists them all).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import discord

from engine import MemoryItem, UserMemory, render_forget

log = logging.getLogger(__name__)

#: How long the /forget menu and buttons stay usable.
CONFIRM_TIMEOUT = 120.0
MENU_OPTIONS = 25
LABEL_LIMIT = 100
ITEM_MENU = "mnemo:forget:item"


class AskerOnly(discord.ui.View):
    """Controls on an answer to ``command``: only the user who ran it may use them (anyone
    else is told so, privately)."""

    def __init__(self, command: str, user_id: int, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self._command = command
        self.user_id = user_id

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id == self.user_id:
            return True
        await interaction.response.send_message(
            f"Only the person who ran {self._command} can answer this.", ephemeral=True
        )
        return False


class ForgetChoice(AskerOnly):
    """What to forget: one item from the menu, everything, or nothing."""

    def __init__(
        self,
        memory: UserMemory,
        workspace: str,
        user_id: int,
        items: Sequence[MemoryItem] = (),
    ) -> None:
        super().__init__("/forget", user_id, CONFIRM_TIMEOUT)
        self._memory = memory
        self._workspace = workspace
        offered = [i for i in items if len(i.key) <= LABEL_LIMIT][:MENU_OPTIONS]
        if offered:
            self.add_item(ItemMenu(self, offered))

    async def forget_item(self, interaction: discord.Interaction, key: str) -> None:
        self.stop()
        await interaction.response.edit_message(content="Forgetting…", view=None)
        removed = await self._memory.forget_item(self._workspace, str(self.user_id), key)
        log.info(
            "forgot one item of %s in %s: %d records", self.user_id, self._workspace, removed.total
        )
        answer = (
            f"Forgotten ({render_forget(removed)})." if removed.total else "That was already gone."
        )
        await interaction.edit_original_response(content=answer)

    @discord.ui.button(
        label="Forget everything",
        style=discord.ButtonStyle.danger,
        custom_id="mnemo:forget:confirm",
    )
    async def confirm(
        self, interaction: discord.Interaction, _: discord.ui.Button[ForgetChoice]
    ) -> None:
        self.stop()
        await interaction.response.edit_message(content="Forgetting…", view=None)
        removed = await self._memory.forget_user(self._workspace, str(self.user_id))
        log.info("forgot user %s in %s: %d records", self.user_id, self._workspace, removed.total)
        await interaction.edit_original_response(
            content=f"Done: I deleted what I kept about you here: {render_forget(removed)}."
        )

    @discord.ui.button(
        label="Cancel", style=discord.ButtonStyle.secondary, custom_id="mnemo:forget:cancel"
    )
    async def cancel(
        self, interaction: discord.Interaction, _: discord.ui.Button[ForgetChoice]
    ) -> None:
        self.stop()
        await interaction.response.edit_message(content="Nothing was deleted.", view=None)


class ItemMenu(discord.ui.Select[ForgetChoice]):
    """The user's items, one option each (its text shortened to Discord's limit)."""

    def __init__(self, choice: ForgetChoice, items: Sequence[MemoryItem]) -> None:
        super().__init__(
            custom_id=ITEM_MENU,
            placeholder="Forget one thing…",
            options=[discord.SelectOption(label=_label(item), value=item.key) for item in items],
        )
        self._choice = choice

    async def callback(self, interaction: discord.Interaction) -> None:
        if self.values:
            await self._choice.forget_item(interaction, self.values[0])


def _label(item: MemoryItem) -> str:
    text = f"({item.label}) {item.text}"
    return text if len(text) <= LABEL_LIMIT else text[: LABEL_LIMIT - 1] + "…"
