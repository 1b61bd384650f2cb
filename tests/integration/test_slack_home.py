"""The App Home tab end to end: signed ``app_home_opened`` events and Home buttons in, the real
user-memory service and store, views out through ``views.publish`` / ``views.open`` of the fake
Slack Web API."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from engine import Derived
from tests.fakes import slack_payloads
from tests.fakes.memory_items import Remembered
from tests.fakes.slack_world import TEAM, SlackWorld, collection_bot, remember_anns_birthday

WORKSPACE = f"slack:{TEAM}"


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[SlackWorld]:
    async with collection_bot(tmp_path, turns=False) as w:
        yield w


@pytest.fixture
async def remembered(world: SlackWorld) -> Remembered:
    return await remember_anns_birthday(world)


def home_opened(user: str = "UANN") -> dict[str, Any]:
    return {
        "type": "app_home_opened",
        "user": user,
        "channel": f"D{user}",
        "tab": "home",
        "event_ts": "1700000006.000100",
    }


async def published(world: SlackWorld, count: int) -> dict[str, Any]:
    """The ``count``-th Home view published (waiting for it), as Slack received it."""
    await world.api.wait_until(lambda: len(world.api.calls_of("views.publish")) >= count)
    call = world.api.calls_of("views.publish")[count - 1]
    assert call.args["user_id"] == "UANN"
    view = call.args["view"]
    return dict(json.loads(view) if isinstance(view, str) else view)


def texts(view: dict[str, Any]) -> str:
    return json.dumps([b for b in view["blocks"] if b["type"] in ("section", "context")])


def buttons(view: dict[str, Any], action_id: str) -> list[dict[str, Any]]:
    return [
        e
        for b in view["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == action_id
    ]


async def press_in_home(world: SlackWorld, action_id: str, value: str) -> None:
    """A button pressed on the Home tab: a ``block_actions`` from a view, no response URL."""
    action = slack_payloads.block_action(action_id)
    action["actions"][0] |= {"value": value}
    action["container"] = {"type": "view", "view_id": "VHOME"}
    del action["response_url"], action["channel"]
    await world.interact({"payload": json.dumps(action)})


async def test_a_new_user_sees_an_empty_home(world: SlackWorld) -> None:
    assert await world.send(home_opened()) == 200
    view = await published(world, 1)
    assert view["type"] == "home"
    assert "I don't remember anything about you yet" in texts(view)
    assert buttons(view, "mnemo_home_forget") == []


async def test_home_shows_the_viewers_memory_and_forgets_an_item(
    world: SlackWorld, remembered: Remembered
) -> None:
    await world.send(home_opened())
    view = await published(world, 1)
    shown = texts(view)
    assert "Birthday cake: lemon" in shown
    assert "Ann wants a lemon birthday cake" in shown
    assert "only in our DM" in shown
    assert "Birthday of the week" not in shown  # the channel's memory, not Ann's
    line = f"{Derived.BLOCK_LINE.value}:{remembered.human_line}"
    assert [b["value"] for b in buttons(view, "mnemo_home_forget")] == [
        line,
        f"{Derived.PASSAGE.value}:{remembered.passage}",
    ]

    await press_in_home(world, "mnemo_home_forget", line)
    after = await published(world, 2)
    assert "Forgotten" in texts(after)
    assert "Birthday cake: lemon" not in texts(after)
    store = world.runtime.store
    assert not await store.lineage.sources_of(Derived.BLOCK_LINE, [remembered.human_line])

    # The same button again (an old view): nothing more is removed, and the tab says so.
    await press_in_home(world, "mnemo_home_forget", line)
    again = await published(world, 3)
    assert "already gone" in texts(again)
    assert await store.passages.get(remembered.passage) is not None
    assert world.api.posted() == []


async def test_another_users_item_cannot_be_forgotten_from_home(
    world: SlackWorld, remembered: Remembered
) -> None:
    channel_line = f"{Derived.BLOCK_LINE.value}:{remembered.channel_line}"
    await press_in_home(world, "mnemo_home_forget", channel_line)
    assert "already gone" in texts(await published(world, 1))
    store = world.runtime.store
    assert await store.lineage.sources_of(Derived.BLOCK_LINE, [remembered.channel_line])


async def test_an_item_is_corrected_in_a_modal(world: SlackWorld, remembered: Remembered) -> None:
    key = f"{Derived.PASSAGE.value}:{remembered.passage}"
    await press_in_home(world, "mnemo_home_edit", key)
    await world.api.wait_until(lambda: bool(world.api.calls_of("views.open")))
    [opened] = world.api.calls_of("views.open")
    modal = opened.args["view"]
    modal = json.loads(modal) if isinstance(modal, str) else modal
    [field] = modal["blocks"]
    assert field["element"]["initial_value"] == "Ann wants a lemon birthday cake"

    submission = slack_payloads.by_ann(
        "view_submission",
        view={
            "id": "VEDIT",
            "type": "modal",
            "callback_id": modal["callback_id"],
            "private_metadata": modal["private_metadata"],
            "state": {
                "values": {
                    field["block_id"]: {
                        field["element"]["action_id"]: {
                            "type": "plain_text_input",
                            "value": "Ann wants a chocolate birthday cake",
                        }
                    }
                }
            },
            "hash": "h",
        },
    )
    # An empty correction is refused inside the modal; nothing changes.
    empty = json.loads(json.dumps(submission))
    empty["view"]["state"]["values"][field["block_id"]][field["element"]["action_id"]] = {
        "value": ""
    }
    answer = await world.interact({"payload": json.dumps(empty)})
    assert answer["response_action"] == "errors"
    assert field["block_id"] in answer["errors"]

    assert await world.interact({"payload": json.dumps(submission)}) == {}
    view = await published(world, 1)
    assert "Updated." in texts(view)
    assert "chocolate" in texts(view)
    passages = await world.runtime.user_data.memory_items(WORKSPACE, "UANN")
    assert "Ann wants a chocolate birthday cake" in [i.text for i in passages]


async def test_home_exports_everything_to_the_dm(world: SlackWorld, remembered: Remembered) -> None:
    await press_in_home(world, "mnemo_home_export", "export")
    view = await published(world, 1)
    assert "Your export is in our DM" in texts(view)
    [upload] = world.api.uploads.values()
    assert b"lemon birthday cake" in upload
