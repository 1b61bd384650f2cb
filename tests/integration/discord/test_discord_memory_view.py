"""/memory's controls end to end: a Forget button per item forgets that item alone, an Edit
button opens a form whose correction keeps the item's sources, and presses the bot cannot
act on (expired, someone else's, an item already gone) get a clear ephemeral answer."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from engine import Derived
from engine.store.lineage import block_line_id
from tests.fakes import discord_payloads as p
from tests.fakes.discord_rest import PostedMessage
from tests.fakes.memory_items import Remembered
from tests.integration.discord.conftest import Scene
from tests.integration.discord.interacting import (
    MODAL,
    UPDATE_MESSAGE,
    answered,
    ask,
    callback,
    is_ephemeral_message,
    seed_birthday,
)

#: The items /memory lists for Alice's DMs after ``seed_birthday``: her human line first.
LINE, PASSAGE = 1, 2
EXPIRED = "Those buttons have expired"


async def show_memory(scene: Scene) -> PostedMessage:
    fake, world = scene.discord, scene.world
    return await ask(
        fake,
        p.slash_command(
            fake.application_id,
            "memory",
            world.alice,
            world.alice_dm,
            command_id=fake.command_id("memory"),
        ),
    )


def press(
    scene: Scene, custom_id: str, on: PostedMessage, by: p.Payload | None = None
) -> p.Payload:
    world = scene.world
    pressed_on = {**on.payload, "channel_id": world.alice_dm["id"]}
    return p.button_press(
        scene.discord.application_id, custom_id, by or world.alice, world.alice_dm, pressed_on
    )


def submit(scene: Scene, form: p.Payload, text: str) -> p.Payload:
    world = scene.world
    values = {"mnemo:memory:text": text}
    custom_id = form["data"]["custom_id"]
    return p.modal_submit(
        scene.discord.application_id, custom_id, values, world.alice, world.alice_dm
    )


def components(tree: Any) -> Iterator[dict[str, Any]]:
    """Every component of a message or form, however nested."""
    if isinstance(tree, dict):
        if "type" in tree and ("custom_id" in tree or "components" in tree):
            yield tree
        for value in tree.values():
            yield from components(value)
    elif isinstance(tree, list):
        for value in tree:
            yield from components(value)


async def test_memory_lists_items_with_a_forget_and_an_edit_button_each(scene: Scene) -> None:
    await seed_birthday(scene)

    shown = await show_memory(scene)

    assert f"{LINE}. (human) Birthday cake: lemon" in shown.content
    assert f"{PASSAGE}. (archival) alice wants a lemon birthday cake" in shown.content
    ids = {c.get("custom_id") for c in components(shown.payload["components"])}
    assert {f"mnemo:memory:{verb}:{n}" for verb in ("forget", "edit") for n in (1, 2)} <= ids


async def test_a_forget_button_forgets_that_item_alone(scene: Scene) -> None:
    remembered = await seed_birthday(scene)
    shown = await show_memory(scene)
    store = scene.runtime.store

    pressed = press(scene, f"mnemo:memory:forget:{PASSAGE}", shown)
    answer = await ask(scene.discord, pressed)

    assert answer.content == "Forgotten (1 archival note)."
    update = callback(scene.discord, pressed)
    assert update is not None
    assert update["type"] == UPDATE_MESSAGE
    assert await store.passages.get(remembered.passage) is None
    assert await store.lineage.sources_of(Derived.BLOCK_LINE, [remembered.human_line])

    again = await ask(scene.discord, press(scene, f"mnemo:memory:forget:{PASSAGE}", shown))
    assert again.content.startswith("That one is no longer in my memory")


async def test_the_edit_form_corrects_an_item_and_keeps_where_it_came_from(
    scene: Scene,
) -> None:
    remembered = await seed_birthday(scene)
    shown = await show_memory(scene)

    form = await answered(scene.discord, press(scene, f"mnemo:memory:edit:{LINE}", shown))
    assert form["type"] == MODAL
    [text_input] = [
        c for c in components(form["data"]) if c.get("custom_id") == "mnemo:memory:text"
    ]
    assert text_input["value"] == "Birthday cake: lemon"

    answer = await ask(scene.discord, submit(scene, form, "Birthday cake: chocolate"))

    assert answer.content == "Updated: I now remember “Birthday cake: chocolate”."
    store = scene.runtime.store
    block_id = remembered.human_line.rpartition("#")[0]
    block = await store.blocks.get(block_id)
    assert block is not None
    assert block.value == "Birthday cake: chocolate"
    new_line = block_line_id(block_id, "Birthday cake: chocolate")
    sources = await store.lineage.sources_of(Derived.BLOCK_LINE, [new_line])
    assert sources[new_line] == [remembered.told.id]


async def test_correcting_an_item_forgotten_meanwhile_says_it_is_gone(scene: Scene) -> None:
    await seed_birthday(scene)
    shown = await show_memory(scene)
    form = await answered(scene.discord, press(scene, f"mnemo:memory:edit:{PASSAGE}", shown))
    await ask(scene.discord, press(scene, f"mnemo:memory:forget:{PASSAGE}", shown))

    answer = await ask(scene.discord, submit(scene, form, "alice wants a carrot cake"))

    assert answer.content.startswith("That one is no longer in my memory")


async def test_an_empty_correction_changes_nothing(scene: Scene) -> None:
    remembered: Remembered = await seed_birthday(scene)
    shown = await show_memory(scene)
    form = await answered(scene.discord, press(scene, f"mnemo:memory:edit:{PASSAGE}", shown))

    answer = await ask(scene.discord, submit(scene, form, "   "))

    assert answer.content.startswith("Not changed: the new text is empty")
    assert await scene.runtime.store.passages.get(remembered.passage) is not None


async def test_buttons_nobody_holds_any_more_get_a_clear_answer(scene: Scene) -> None:
    """A /memory answer from before a restart (no live view), and a form nobody opened."""
    await seed_birthday(scene)
    old = PostedMessage(p.message("0", scene.discord.bot, "What I keep about you here"))

    button = await answered(scene.discord, press(scene, "mnemo:memory:forget:1", old))
    world = scene.world
    form = p.modal_submit(
        scene.discord.application_id, "no-such-form", {}, world.alice, world.alice_dm
    )
    submitted = await answered(scene.discord, form)

    for answer in (button, submitted):
        assert is_ephemeral_message(answer)
        assert answer["data"]["content"].startswith(EXPIRED)
    assert [
        i.text
        for i in await scene.runtime.user_data.memory_items(
            f"discord:dm:{world.alice['id']}", world.alice["id"]
        )
    ] == ["Birthday cake: lemon", "alice wants a lemon birthday cake"]


async def test_someone_else_cannot_press_your_memory_buttons(scene: Scene) -> None:
    remembered = await seed_birthday(scene)
    shown = await show_memory(scene)

    refused = await answered(
        scene.discord, press(scene, f"mnemo:memory:forget:{PASSAGE}", shown, by=scene.world.bob)
    )

    assert is_ephemeral_message(refused)
    assert "person who ran /memory" in refused["data"]["content"]
    assert await scene.runtime.store.passages.get(remembered.passage) is not None
