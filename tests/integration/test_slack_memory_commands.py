"""``/mnemo why`` and ``/mnemo forget`` end to end: signed Slack requests in, the real engine and
store, answers out through the response URL, links from the fake Web API's chat.getPermalink."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from engine import Derived
from tests.fakes import slack_payloads
from tests.fakes.memory_items import Remembered
from tests.fakes.openai_server import tool_call
from tests.fakes.slack_world import (
    ANNS_PUBLIC_TS,
    SlackWorld,
    collection_bot,
    remember_anns_birthday,
)

PUBLIC_TS = ANNS_PUBLIC_TS


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[SlackWorld]:
    async with collection_bot(tmp_path, turns=False) as w:
        yield w


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[SlackWorld]:
    """The app with turns running: the agent answers."""
    async with collection_bot(tmp_path) as w:
        yield w


@pytest.fixture
async def remembered(world: SlackWorld) -> Remembered:
    return await remember_anns_birthday(world)


def command(world: SlackWorld, text: str, key: str, **where: str) -> dict[str, str]:
    return (
        slack_payloads.slash_command(text) | {"response_url": world.api.response_url(key)} | where
    )


async def answer(world: SlackWorld, key: str) -> str:
    await world.api.wait_until(lambda: any(r["key"] == key for r in world.api.responses))
    return str(next(r for r in world.api.responses if r["key"] == key)["text"])


async def test_why_in_a_public_channel_cites_with_a_permalink_and_never_a_dm(
    world: SlackWorld, remembered: Remembered
) -> None:
    ack = await world.interact(command(world, "why birthday", "why"))
    assert "birthday" in ack["text"]
    text = await answer(world, "why")
    link = f"https://fake.slack.com/archives/CGEN/p{PUBLIC_TS.replace('.', '')}"
    assert f"<{link}|Ann, 03 Mar 2026 in #general>" in text
    assert "Birthday of the week: 12 March" in text
    for private in ("lemon", "secret", "DUANN", "direct messages"):
        assert private not in text
    [asked] = world.api.calls_of("chat.getPermalink")
    assert asked.args == {"channel": "CGEN", "message_ts": PUBLIC_TS}


async def test_why_in_the_users_dm_shows_what_they_said_there(
    world: SlackWorld, remembered: Remembered
) -> None:
    await world.interact(
        command(world, "why lemon birthday", "dm", channel_id="DUANN", channel_name="directmessage")
    )
    text = await answer(world, "dm")
    assert "lemon birthday cake" in text
    assert "in direct messages" in text
    assert "Birthday of the week" in text


async def test_why_without_words_says_how_to_ask(world: SlackWorld) -> None:
    ack = await world.interact(command(world, "why", "none"))
    assert "/mnemo why <words>" in ack["text"]


async def choose(world: SlackWorld, value: str, key: str) -> str:
    action = slack_payloads.block_action("mnemo_forget_item")
    action["actions"][0] |= {"type": "static_select", "selected_option": {"value": value}}
    action["response_url"] = world.api.response_url(key)
    await world.interact({"payload": json.dumps(action)})
    return await answer(world, key)


def menu_values(ack: dict[str, Any]) -> list[str]:
    [menu] = [b["accessory"] for b in ack["blocks"] if b.get("accessory")]
    assert menu["type"] == "static_select"
    return [option["value"] for option in menu["options"]]


async def test_forget_offers_the_users_items_and_removes_the_one_chosen(
    world: SlackWorld, remembered: Remembered
) -> None:
    ack = await world.interact(command(world, "forget", "menu"))
    values = menu_values(ack)
    line = f"{Derived.BLOCK_LINE.value}:{remembered.human_line}"
    assert set(values) == {line, f"{Derived.PASSAGE.value}:{remembered.passage}"}
    assert any(b["type"] == "actions" for b in ack["blocks"])  # "everything" stays offered

    assert "Forgotten" in await choose(world, line, "one")
    store = world.runtime.store
    assert not await store.lineage.sources_of(Derived.BLOCK_LINE, [remembered.human_line])
    ack = await world.interact(command(world, "forget", "menu-again"))
    assert menu_values(ack) == [f"{Derived.PASSAGE.value}:{remembered.passage}"]
    assert await store.passages.get(remembered.passage) is not None


async def test_a_forged_choice_removes_nothing(world: SlackWorld, remembered: Remembered) -> None:
    channel_line = f"{Derived.BLOCK_LINE.value}:{remembered.channel_line}"
    assert "nothing changed" in await choose(world, channel_line, "forged")
    store = world.runtime.store
    assert await store.lineage.sources_of(Derived.BLOCK_LINE, [remembered.channel_line])


async def test_permalinks_are_cached_and_a_refusal_costs_only_the_link(
    world: SlackWorld, remembered: Remembered
) -> None:
    world.api.fail("chat.getPermalink", error="message_not_found")
    await world.interact(command(world, "why birthday", "refused"))
    refused = await answer(world, "refused")
    assert "Ann, 03 Mar 2026 in #general" in refused
    assert "fake.slack.com" not in refused

    for key in ("first", "again"):
        await world.interact(command(world, "why birthday", key))
        assert "fake.slack.com/archives/CGEN" in await answer(world, key)
    assert len(world.api.calls_of("chat.getPermalink")) == 2  # the refusal, then one link


async def test_the_agents_search_cites_a_slack_message_with_its_permalink(
    live: SlackWorld,
) -> None:
    live.llm.push(tool_call("send_message", message="Happy early birthday!"))
    said = {"type": "app_mention", "channel": "CGEN", "user": "UANN", "ts": PUBLIC_TS}
    await live.send(said | {"text": "<@UBOT> my birthday is on 12 March"})
    await live.replies(1, "CGEN")

    live.llm.push(
        tool_call("conversation_search", query="birthday"),
        tool_call("send_message", message="You told me in #general."),
    )
    asked = {"type": "message", "channel": "DUANN", "channel_type": "im", "user": "UANN"}
    await live.send(asked | {"text": "when is my birthday?", "ts": "1700000009.000100"})
    await live.replies(1, "DUANN")
    found = [m["content"] for m in live.llm.chat_requests[-1]["messages"] if m["role"] == "tool"]
    link = f"https://fake.slack.com/archives/CGEN/p{PUBLIC_TS.replace('.', '')}"
    assert "- Ann, " in found[-1]
    assert f" in #general <{link}>" in found[-1]
