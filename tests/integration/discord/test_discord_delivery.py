"""Replies posted through the real discord.py REST client to the fake Discord: references,
threads, 2,000-character chunks, exactly-once redelivery, rate limits and typing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from adapters.chunking import split_message
from adapters.discord import DiscordAdapter, DiscordDelivery
from adapters.discord.delivery import MESSAGE_LIMIT
from engine.audience import Audience, AudienceKind
from engine.ports import DeliveryError
from engine.records import Author, Inbound, Outbound, new_id
from tests.fakes import discord_payloads as p
from tests.fakes.discord_rest import FakeDiscord
from tests.fakes.discord_world import DiscordWorld, NoInbox, NoMemory, bot_config


@pytest.fixture
async def port(fake: FakeDiscord, world: DiscordWorld) -> AsyncIterator[DiscordDelivery]:
    adapter = DiscordAdapter(bot_config(fake), NoInbox(), NoMemory())
    await adapter.start()
    yield adapter.platform_port
    await adapter.stop()


def reply(channel: str, text: str, *, thread: str = "", reply_to: str = "") -> Outbound:
    return Outbound(
        id=new_id(),
        inbox_id=new_id(),
        platform="discord",
        agent_id="agent-1",
        workspace="discord:1",
        channel=channel,
        thread=thread,
        text=text,
        reply_to=reply_to,
    )


async def test_reply_references_the_message_it_answers(
    fake: FakeDiscord, world: DiscordWorld, port: DiscordDelivery
) -> None:
    question = p.snowflake()

    posted_id = await port.deliver(reply(world.general["id"], "Hi!", reply_to=question))

    [posted] = fake.posted(world.general["id"])
    assert posted.id == posted_id
    assert posted.content == "Hi!"
    assert posted.reply_to == question


async def test_thread_reply_is_posted_in_the_thread(
    fake: FakeDiscord, world: DiscordWorld, port: DiscordDelivery
) -> None:
    thread = world.public_thread["id"]

    await port.deliver(reply(world.general["id"], "In the thread.", thread=thread))

    assert [m.content for m in fake.posted(thread)] == ["In the thread."]
    assert fake.posted(world.general["id"]) == []


async def test_five_thousand_characters_arrive_as_chunks_with_code_intact(
    fake: FakeDiscord, world: DiscordWorld, port: DiscordDelivery
) -> None:
    code = "```python\n" + "\n".join(f"print({n})" for n in range(220)) + "\n```"
    prose = " ".join(["word"] * 300)
    text = f"{prose}\n\n{code}\n\n{prose}"
    text += "!" * (5000 - len(text))

    first = await port.deliver(reply(world.general["id"], text, reply_to=p.snowflake()))

    posted = fake.posted(world.general["id"])
    assert [m.content for m in posted] == split_message(text, MESSAGE_LIMIT)
    assert len(posted) == 3
    assert posted[0].id == first
    assert all(len(m.content) <= MESSAGE_LIMIT for m in posted)
    assert all(m.content.count("```") % 2 == 0 for m in posted)
    assert [m.reply_to is not None for m in posted] == [True, False, False]
    rejoined = "".join(m.content for m in posted)
    assert all(f"print({n})\n" in rejoined for n in range(220))


async def test_redelivering_the_same_reply_posts_nothing_new(
    fake: FakeDiscord, world: DiscordWorld, port: DiscordDelivery
) -> None:
    outbound = reply(world.general["id"], "x " * 2500)

    first = await port.deliver(outbound)
    again = await port.deliver(outbound)

    assert first == again
    assert len(fake.posted(world.general["id"])) == len(split_message(outbound.text, MESSAGE_LIMIT))


async def test_short_rate_limit_is_waited_out(
    fake: FakeDiscord, world: DiscordWorld, port: DiscordDelivery
) -> None:
    route = f"POST /channels/{world.general['id']}/messages"
    fake.rate_limit(route, times=1, retry_after=0.2)

    await port.deliver(reply(world.general["id"], "patience"))

    assert fake.rate_limited[route] == 1
    assert [m.content for m in fake.posted(world.general["id"])] == ["patience"]


async def test_long_rate_limit_fails_the_delivery_with_retry_after(
    fake: FakeDiscord, world: DiscordWorld, port: DiscordDelivery
) -> None:
    fake.rate_limit(f"POST /channels/{world.general['id']}/messages", times=1, retry_after=90)

    with pytest.raises(DeliveryError) as error:
        await port.deliver(reply(world.general["id"], "later"))

    assert not error.value.permanent
    assert error.value.retry_after == 90
    assert fake.posted(world.general["id"]) == []


async def test_delivery_to_a_deleted_channel_fails_permanently(
    fake: FakeDiscord, port: DiscordDelivery
) -> None:
    with pytest.raises(DeliveryError) as error:
        await port.deliver(reply(p.snowflake(), "anyone?"))

    assert error.value.permanent


async def test_typing_is_shown_in_the_thread_while_the_turn_runs(
    fake: FakeDiscord, world: DiscordWorld, port: DiscordDelivery
) -> None:
    thread = world.public_thread["id"]
    inbound = Inbound(
        platform="discord",
        agent_id="agent-1",
        audience=Audience(f"discord:{world.guild_id}", AudienceKind.PUBLIC, world.general["id"]),
        thread=thread,
        author=Author(world.alice["id"], "alice"),
        text="hi",
        event_id="1",
        message_ref="1",
        sent_at=datetime.now(UTC),
    )

    async with port.working(inbound):
        for _ in range(200):
            if fake.typing[thread]:
                break
            await asyncio.sleep(0.01)

    assert fake.typing[thread] >= 1
    assert fake.typing[world.general["id"]] == 0
