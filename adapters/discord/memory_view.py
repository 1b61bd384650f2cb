"""The ``/memory`` answer's controls: a button per item to forget it, and one to correct it in
a form. The answer is ephemeral, so only the user who ran ``/memory`` sees them; each acts on
that user's own items in the place ``/memory`` was run, so a stale or forged press can never
reach anyone else's memory.

Discord allows five rows of five buttons: the first ``SHOWN_ITEMS`` items get a pair each
(``/export`` lists them all).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import discord

from adapters.discord.forget_view import AskerOnly
from engine import InvalidCorrection, MemoryItem, UserMemory, render_forget

log = logging.getLogger(__name__)

#: Items with buttons: two rows of "Forget n", two of "Edit n".
SHOWN_ITEMS = 10
_PER_ROW = 5
#: How long the buttons answer; after that a press gets "run /memory again".
CONTROLS_TIMEOUT = 600.0
#: Room for the corrected text of one item.
EDIT_LIMIT = 1000
#: Characters of an item's text shown in the list.
ITEM_PREVIEW = 120
GONE = "That one is no longer in my memory: run /memory to see what I keep now."


def render_items(items: Sequence[MemoryItem]) -> str:
    """The numbered items the buttons name."""
    lines = [f"**Things you can forget or correct** ({min(len(items), SHOWN_ITEMS)} shown):"]
    lines.extend(
        f"{number}. ({item.label}) {_preview(item.text)}"
        for number, item in enumerate(items[:SHOWN_ITEMS], 1)
    )
    return "\n".join(lines)


class MemoryControls(AskerOnly):
    """Forget and Edit buttons for the first ``SHOWN_ITEMS`` of a user's items."""

    def __init__(
        self, memory: UserMemory, workspace: str, user_id: int, items: Sequence[MemoryItem]
    ) -> None:
        super().__init__("/memory", user_id, CONTROLS_TIMEOUT)
        self.memory = memory
        self.workspace = workspace
        #: The items the buttons name, as they are now (an edit gives an item a new key).
        self.items = list(items[:SHOWN_ITEMS])
        for at in range(len(self.items)):
            row = at // _PER_ROW
            self.add_item(ForgetItem(at, row))
            self.add_item(EditItem(at, row + 2))


class ItemButton(discord.ui.Button[MemoryControls]):
    """The button ``verb`` of the ``at``-th item listed (numbered from 1 for people)."""

    def __init__(self, verb: str, style: discord.ButtonStyle, at: int, row: int) -> None:
        super().__init__(
            label=f"{verb} {at + 1}",
            style=style,
            custom_id=f"mnemo:memory:{verb.lower()}:{at + 1}",
            row=row,
        )
        self._at = at

    @property
    def controls(self) -> MemoryControls:
        assert self.view is not None  # discord.py calls back only buttons of a view
        return self.view


class ForgetItem(ItemButton):
    def __init__(self, at: int, row: int) -> None:
        super().__init__("Forget", discord.ButtonStyle.danger, at, row)

    async def callback(self, interaction: discord.Interaction) -> None:
        controls = self.controls
        self.disabled = True
        await interaction.response.edit_message(view=controls)
        removed = await controls.memory.forget_item(
            controls.workspace, str(controls.user_id), controls.items[self._at].key
        )
        log.info("forgot one item of %s: %d records", controls.user_id, removed.total)
        answer = f"Forgotten ({render_forget(removed)})." if removed.total else GONE
        await interaction.followup.send(answer, ephemeral=True)


class EditItem(ItemButton):
    def __init__(self, at: int, row: int) -> None:
        super().__init__("Edit", discord.ButtonStyle.secondary, at, row)

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(CorrectItem(self.controls, self._at))


class CorrectItem(discord.ui.Modal, title="Correct what I remember"):
    """The item's text, to rewrite; where it came from stays linked to it."""

    def __init__(self, controls: MemoryControls, at: int) -> None:
        super().__init__(timeout=CONTROLS_TIMEOUT)
        self._controls = controls
        self._at = at
        item = controls.items[at]
        self.text: discord.ui.TextInput[CorrectItem] = discord.ui.TextInput(
            label="What I should remember instead",
            style=discord.TextStyle.paragraph,
            default=item.text[:EDIT_LIMIT],
            max_length=EDIT_LIMIT,
            custom_id="mnemo:memory:text",
        )
        self.add_item(self.text)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        controls = self._controls
        key = controls.items[self._at].key
        try:
            edited = await controls.memory.edit_item(
                controls.workspace, str(controls.user_id), key, self.text.value
            )
        except InvalidCorrection as error:
            await interaction.followup.send(f"Not changed: {error}", ephemeral=True)
            return
        if edited is None:
            await interaction.followup.send(GONE, ephemeral=True)
            return
        controls.items[self._at] = edited
        await interaction.followup.send(
            f"Updated: I now remember “{_preview(edited.text)}”.", ephemeral=True
        )


def _preview(text: str) -> str:
    return text if len(text) <= ITEM_PREVIEW else text[: ITEM_PREVIEW - 1] + "…"
