"""Block Kit elements that Mnemo's messages, prompts and views are built from."""

from __future__ import annotations

from typing import Any


def button(action_id: str, text: str, *, value: str = "", style: str = "") -> dict[str, Any]:
    """A button that sends ``action_id`` (and ``value``, when given) back when pressed;
    ``style`` is "primary" or "danger", or "" for the default look."""
    element: dict[str, Any] = {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": text},
    }
    if value:
        element["value"] = value
    if style:
        element["style"] = style
    return element
