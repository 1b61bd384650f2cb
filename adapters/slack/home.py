"""The App Home tab, "What I remember about you": the viewer's own memory, each item with a
button to forget it and one to correct it (a modal), and a button to export everything.

The Home tab is private to its viewer, so it shows everything ``UserMemory.memory_items`` lists
for them, their DM-private part included, each with who may read it. A button on an item that
is gone by now (forgotten from another tab, an old view) changes nothing and says so at the
top of the refreshed tab: Home has no thread to answer in.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from slack_bolt.async_app import AsyncAck
from slack_sdk.errors import SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.answers import team_of_action
from adapters.slack.blocks import button
from adapters.slack.commands import send_export
from adapters.slack.events import workspace_id
from adapters.slack.formatting import escape
from adapters.slack.payloads import (
    MalformedEvent,
    read_button_press,
    read_callback,
    read_view_submission,
)
from adapters.slack.routing import receiver_of
from engine import JSON, InvalidCorrection, MemoryItem, UserMemory, render_forget

log = logging.getLogger(__name__)

HOME_FORGET = "mnemo_home_forget"
HOME_EDIT = "mnemo_home_edit"
HOME_EXPORT = "mnemo_home_export"
EDIT_VIEW = "mnemo_home_edit_view"
EDIT_BLOCK = "mnemo_item_text"
EDIT_INPUT = "text"
#: A Home view holds 100 blocks: two per item, and the heading and notes around them.
HOME_ITEMS = 45
#: An item's text shown in full up to this (a section holds 3,000 characters once escaped).
SHOWN_TEXT = 2_000
#: Slack's limit on a plain-text input's initial value and on what it accepts.
INPUT_LIMIT = 3_000
EMPTY = (
    "I don't remember anything about you yet. Tell me something in a DM, or use "
    "*Remember this* on a message."
)
GONE = "That was already gone; nothing changed."

type Rejection = Callable[[JSON, str], Awaitable[None]]


def home_view(items: Sequence[MemoryItem], notice: str = "") -> dict[str, Any]:
    """The Home tab of someone the agent keeps ``items`` about."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": "What I remember about you"}}
    ]
    if notice:
        blocks.append(_context(notice))
    if not items:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": EMPTY}})
        return {"type": "home", "blocks": blocks}
    blocks.append(
        {
            "type": "actions",
            "elements": [
                button(HOME_EXPORT, "Export everything (JSON, to our DM)", value="export")
            ],
        }
    )
    for item in items[:HOME_ITEMS]:
        blocks += _item_blocks(item)
    if len(items) > HOME_ITEMS:
        blocks.append(_context(f"… and {len(items) - HOME_ITEMS} more: the export lists all."))
    return {"type": "home", "blocks": blocks}


def edit_modal(item: MemoryItem) -> dict[str, Any]:
    """The modal that corrects ``item``'s text."""
    return {
        "type": "modal",
        "callback_id": EDIT_VIEW,
        "private_metadata": item.key,
        "title": {"type": "plain_text", "text": "Correct a memory"},
        "submit": {"type": "plain_text", "text": "Save"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "input",
                "block_id": EDIT_BLOCK,
                "label": {"type": "plain_text", "text": "What I should remember"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": EDIT_INPUT,
                    "multiline": True,
                    "max_length": INPUT_LIMIT,
                    "initial_value": item.text[:INPUT_LIMIT],
                },
            }
        ],
    }


class MemoryHome:
    """Publishes the Home tab and handles its buttons and its correction modal."""

    def __init__(self, memory: UserMemory, reject: Rejection) -> None:
        self._memory = memory
        self._reject = reject

    async def opened(
        self, body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient
    ) -> None:
        """``app_home_opened`` on the Home tab: show the viewer their memory."""
        user = event.get("user")
        if event.get("tab") != "home" or not isinstance(user, str) or not user:
            return
        try:
            team = receiver_of(read_callback(body)).team
        except MalformedEvent as error:
            await self._reject(body, str(error))
            return
        await self.publish(client, team, user)

    async def forget(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        pressed = await self._pressed(body)
        if pressed is None:
            return
        team, user, key = pressed
        removed = await self._memory.forget_item(workspace_id(team), user, key)
        notice = f"Forgotten ({render_forget(removed)})." if removed.total else GONE
        await self.publish(client, team, user, notice)

    async def edit(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        """Open the correction modal for the item pressed (or say it is gone)."""
        pressed = await self._pressed(body)
        trigger = body.get("trigger_id")
        if pressed is None or not isinstance(trigger, str):
            return
        team, user, key = pressed
        items = await self._memory.memory_items(workspace_id(team), user)
        item = next((i for i in items if i.key == key), None)
        if item is None:
            await self.publish(client, team, user, GONE, items)
            return
        try:
            await client.views_open(trigger_id=trigger, view=edit_modal(item))
        except SlackClientError as error:
            log.info("opening the correction modal failed: %r", error)

    async def export(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        try:
            press = read_button_press(body)
        except MalformedEvent as error:
            await self._reject(body, str(error))
            return
        team, user = team_of_action(press), press["user"]["id"]
        if not team:
            return
        sent = await send_export(self._memory, client, workspace_id(team), user)
        notice = "Your export is in our DM." if sent else "I couldn't send your export; try again."
        await self.publish(client, team, user, notice)

    async def save(self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        """The correction modal submitted: keep the new text, or say in the modal why not."""
        try:
            submitted = read_view_submission(body)
        except MalformedEvent as error:
            await self._reject(body, str(error))
            await ack()
            return
        team, user = team_of_action(submitted), submitted["user"]["id"]
        view = submitted["view"]
        key = view.get("private_metadata", "")
        typed = view["state"]["values"].get(EDIT_BLOCK, {}).get(EDIT_INPUT, {}).get("value") or ""
        if not team or not key:
            await ack()
            return
        try:
            edited = await self._memory.edit_item(workspace_id(team), user, key, typed)
        except InvalidCorrection as error:
            await ack(response_action="errors", errors={EDIT_BLOCK: str(error)})
            return
        await ack()
        await self.publish(client, team, user, "Updated." if edited is not None else GONE)

    async def publish(
        self,
        client: AsyncWebClient,
        team: str,
        user: str,
        notice: str = "",
        items: Sequence[MemoryItem] | None = None,
    ) -> None:
        """Show ``user`` their Home tab (``items``, or what is kept about them now)."""
        if items is None:
            items = await self._memory.memory_items(workspace_id(team), user)
        try:
            await client.views_publish(user_id=user, view=home_view(items, notice))
        except SlackClientError as error:
            log.info("publishing the Home tab of %s failed: %r", user, error)

    async def _pressed(self, body: dict[str, Any]) -> tuple[str, str, str] | None:
        """The workspace, user and item key of a press on an item's button."""
        try:
            press = read_button_press(body)
        except MalformedEvent as error:
            await self._reject(body, str(error))
            return None
        team, key = team_of_action(press), press["actions"][0].get("value", "")
        return (team, press["user"]["id"], key) if team and key else None


def _item_blocks(item: MemoryItem) -> list[dict[str, Any]]:
    where = f" · {item.scope.visibility}" if item.scope is not None else ""
    text = f"{escape(_shown(item.text))}\n_{item.label}{where}_"
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": text}},
        {
            "type": "actions",
            "elements": [
                button(HOME_EDIT, "Correct", value=item.key),
                button(HOME_FORGET, "Forget", value=item.key, style="danger"),
            ],
        },
    ]


def _shown(text: str) -> str:
    """``text`` short enough for a section (3,000 characters, escaping included)."""
    return text if len(text) <= SHOWN_TEXT else text[: SHOWN_TEXT - 1] + "…"


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}
