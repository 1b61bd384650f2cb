"""The bot's gateway connection: real discord.py against the fake Discord.

Connect, identify without privileged intents, parse messages into ``Inbound``, and survive
disconnects (resume replays what was missed) and invalidated sessions (identify again).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import discord
import pytest

from adapters.discord import DiscordAdapter
from adapters.serving import Serving
from engine import PeerAgent
from engine.ports import ReceiveOutcome, ReceiveResult
from engine.records import JSON, Inbound
from tests.fakes import discord_payloads as p
from tests.fakes.discord_gateway import OP_HELLO
from tests.fakes.discord_rest import FakeDiscord
from tests.fakes.discord_world import DiscordWorld, NoMemory, bot_config, build_world, eventually

MESSAGE_CONTENT_INTENT = 1 << 15


class RecordingInbox:
    """The engine's intake as the adapter sees it: records what it is handed."""

    def __init__(self) -> None:
        self.received: list[Inbound] = []
        self.rejected: list[tuple[str, JSON, str]] = []

    async def receive(self, inbound: Inbound) -> ReceiveResult:
        self.received.append(inbound)
        return ReceiveResult(ReceiveOutcome.ACCEPTED, inbox_id=inbound.event_id)

    async def reject(self, platform: str, raw: JSON, error: str) -> None:
        self.rejected.append((platform, raw, error))

    def texts(self) -> list[str]:
        return [inbound.text for inbound in self.received]


@pytest.fixture
def inbox() -> RecordingInbox:
    return RecordingInbox()


@pytest.fixture
async def bot(
    fake: FakeDiscord, world: DiscordWorld, inbox: RecordingInbox
) -> AsyncIterator[DiscordAdapter]:
    adapter = DiscordAdapter(bot_config(fake), inbox, NoMemory())
    await adapter.start()
    yield adapter
    await adapter.stop()


def dm_from(world: DiscordWorld, text: str) -> p.Payload:
    return p.message(world.alice_dm["id"], world.alice, text)


async def test_bot_identifies_without_privileged_intents_and_registers_commands(
    fake: FakeDiscord, bot: DiscordAdapter
) -> None:
    session = fake.gateway.sessions[0]

    assert session.intents & MESSAGE_CONTENT_INTENT == 0
    assert {command["name"] for command in fake.commands} == {
        "memory",
        "forget",
        "export",
        "why",
        "Remember this message",
        "Forget this message",
    }
    assert bot.client.is_ready()


async def test_dm_reaches_the_engine_through_discord_py(
    fake: FakeDiscord, world: DiscordWorld, inbox: RecordingInbox, bot: DiscordAdapter
) -> None:
    await fake.gateway.dispatch("MESSAGE_CREATE", dm_from(world, "remember I like tea"))

    await eventually(lambda: bool(inbox.received), "the DM to reach the engine")
    assert inbox.texts() == ["remember I like tea"]
    assert inbox.received[0].author.name == "alice"


async def test_messages_sent_while_disconnected_arrive_once_after_resume(
    fake: FakeDiscord, world: DiscordWorld, inbox: RecordingInbox, bot: DiscordAdapter
) -> None:
    await fake.gateway.dispatch("MESSAGE_CREATE", dm_from(world, "before"))
    await eventually(lambda: len(inbox.received) == 1, "the first message")

    await fake.gateway.disconnect()
    await fake.gateway.dispatch("MESSAGE_CREATE", dm_from(world, "while away"))
    await fake.gateway.wait_connected(2)
    await fake.gateway.dispatch("MESSAGE_CREATE", dm_from(world, "after"))

    await eventually(lambda: len(inbox.received) == 3, "all three messages")
    assert inbox.texts() == ["before", "while away", "after"]
    assert fake.gateway.resumes == 1
    assert fake.gateway.identifies == 1


async def test_invalidated_session_identifies_again_and_keeps_listening(
    fake: FakeDiscord, world: DiscordWorld, inbox: RecordingInbox, bot: DiscordAdapter
) -> None:
    fake.gateway.invalidate_next_resume = True
    await fake.gateway.disconnect()
    await eventually(lambda: fake.gateway.identifies == 2, "a fresh IDENTIFY")

    await fake.gateway.dispatch("MESSAGE_CREATE", dm_from(world, "still there?"))

    await eventually(lambda: inbox.texts() == ["still there?"], "the message after re-identify")


async def test_sharded_bot_opens_one_session_per_shard(
    world: DiscordWorld, inbox: RecordingInbox
) -> None:
    sharded = FakeDiscord(shards=2)
    sharded_world = build_world(sharded)
    async with sharded.running():
        adapter = DiscordAdapter(bot_config(sharded, sharded=True), inbox, NoMemory())
        await adapter.start()
        try:
            assert sorted(s.shard for s in sharded.gateway.sessions) == [(0, 2), (1, 2)]
            for channel, guild in (
                (sharded_world.general, sharded_world.guild_id),
                (sharded_world.second_general, sharded_world.second_guild_id),
            ):
                mention = f"{p.mention(sharded.bot)} hello"
                payload = p.message(
                    channel["id"], world.alice, mention, guild_id=guild, mentions=[sharded.bot]
                )
                await sharded.gateway.dispatch("MESSAGE_CREATE", payload)
            await eventually(lambda: len(inbox.received) == 2, "a message on each shard")
            assert isinstance(adapter.client, discord.AutoShardedClient)
        finally:
            await adapter.stop()


async def test_message_in_an_unknown_channel_is_rejected_with_its_ids(
    fake: FakeDiscord, world: DiscordWorld, inbox: RecordingInbox, bot: DiscordAdapter
) -> None:
    unknown_channel = p.snowflake()
    payload = p.message(
        unknown_channel,
        world.alice,
        f"{p.mention(fake.bot)} hi",
        guild_id=world.guild_id,
        mentions=[fake.bot],
    )

    await fake.gateway.dispatch("MESSAGE_CREATE", payload)

    await eventually(lambda: bool(inbox.rejected), "the rejection")
    platform, raw, error = inbox.rejected[0]
    assert platform == "discord"
    assert raw["id"] == payload["id"]
    assert raw["channel_id"] == unknown_channel
    assert error
    assert inbox.received == []


async def test_a_peer_agents_application_post_is_heard_but_a_webhook_post_is_not(
    fake: FakeDiscord, world: DiscordWorld, inbox: RecordingInbox
) -> None:
    peer = world.other_bot
    config = bot_config(
        fake, serving=Serving(peer_agents={peer["id"]: PeerAgent("agent-2", "Helper")})
    )
    adapter = DiscordAdapter(config, inbox, NoMemory())
    await adapter.start()
    try:
        text = f"{p.mention(fake.bot)} status?"
        general, guild = world.general["id"], world.guild_id
        webhook = p.webhook_message(general, guild, text, mentions=[fake.bot])
        by_peer = p.message(general, peer, text, guild_id=guild, mentions=[fake.bot])
        await fake.gateway.dispatch("MESSAGE_CREATE", webhook)
        await fake.gateway.dispatch(
            "MESSAGE_CREATE", {**by_peer, "application_id": fake.application_id}
        )

        await fake.gateway.dispatch("MESSAGE_CREATE", dm_from(world, "after them"))

        await eventually(lambda: len(inbox.received) >= 2, "the peer's post and the DM")
        assert [inbound.author.id for inbound in inbox.received] == [peer["id"], world.alice["id"]]
    finally:
        await adapter.stop()


async def test_a_protocol_fault_on_a_shard_resumes_that_shard(inbox: RecordingInbox) -> None:
    sharded = FakeDiscord(shards=2)
    sharded_world = build_world(sharded)
    async with sharded.running():
        adapter = DiscordAdapter(bot_config(sharded, sharded=True), inbox, NoMemory())
        await adapter.start()
        try:
            await sharded.gateway.send_frame(OP_HELLO, None)  # fails inside discord.py's reader
            await sharded.gateway.wait_connected(4)  # two identifies, then two resumes

            dm = p.message(sharded_world.alice_dm["id"], sharded_world.alice, "still there?")
            await sharded.gateway.dispatch("MESSAGE_CREATE", dm)

            await eventually(lambda: inbox.texts() == ["still there?"], "the DM after resuming")
            assert sharded.gateway.resumes == 2
            assert adapter.gateway_restarts == 2
            await eventually(lambda: adapter.problem is None, "the bot to report up")
        finally:
            await adapter.stop()
