"""The Block Kit of ``/mnemo forget``: a menu of the user's items, "everything", and cancel.

Slack allows 100 options per menu, 75 characters per option's text and 150 per value; an
item's key (``block_line:<id>`` or ``passage:<id>``) fits, and longer texts are shortened.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from adapters.slack.blocks import button
from engine import MemoryItem

FORGET_CONFIRM = "mnemo_forget_confirm"
FORGET_CANCEL = "mnemo_forget_cancel"
FORGET_ITEM = "mnemo_forget_item"
MENU_OPTIONS = 100
OPTION_TEXT = 75


def forget_blocks(items: Sequence[MemoryItem]) -> list[dict[str, Any]]:
    """The forget answer: a menu of ``items`` (when there are any), then the buttons to delete
    everything or nothing."""
    blocks: list[dict[str, Any]] = []
    if items:
        shown = items[:MENU_OPTIONS]
        more = len(items) - len(shown)
        note = f" (the {len(shown)} newest; `/mnemo export` lists all)" if more > 0 else ""
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": f"Forget one thing I keep about you{note}:"},
                "accessory": {
                    "type": "static_select",
                    "action_id": FORGET_ITEM,
                    "placeholder": {"type": "plain_text", "text": "Choose what to forget"},
                    "options": [_option(item) for item in shown],
                },
            }
        )
    blocks += [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": "Or delete *everything* I keep about you in this workspace: notes, "
                "archived facts and your messages in my recall. This cannot be undone.",
            },
        },
        {
            "type": "actions",
            "elements": [
                button(FORGET_CONFIRM, "Delete everything", style="danger"),
                button(FORGET_CANCEL, "Cancel"),
            ],
        },
    ]
    return blocks


def _option(item: MemoryItem) -> dict[str, Any]:
    text = f"({item.label}) {item.text}"
    if len(text) > OPTION_TEXT:
        text = text[: OPTION_TEXT - 1] + "…"
    return {"text": {"type": "plain_text", "text": text}, "value": item.key}
