"""Discord message payloads -> what the engine gets through the intake chain: filtering,
channel policies, audiences, text.

Messages are built by discord.py itself from gateway payload dicts; no network.
"""

from __future__ import annotations

from typing import Any, cast

import discord
import pytest

from adapters.discord import ChannelPolicy, DiscordConfig
from adapters.discord.inbound import arrival_from_message
from engine.audience import AudienceKind, Scope
from engine.pipeline import admit
from engine.records import Inbound
from tests.fakes import discord_payloads as p
from tests.fakes.discord_rest import FakeDiscord
from tests.fakes.discord_world import DiscordWorld, build_world
from tests.unit.intake_doubles import through_intake


class Gateway:
    """discord.py's connection state, fed the GUILD_CREATE payloads of a test world."""

    def __init__(self) -> None:
        self.fake = FakeDiscord()
        self.world = build_world(self.fake)
        self.client = discord.Client(intents=discord.Intents.default())
        self.state: Any = cast(Any, self.client._connection)
        self.state.user = discord.ClientUser(state=self.state, data=cast(Any, self.fake.bot))
        for guild in self.fake.guilds.values():
            self.state._add_guild_from_data(guild)

    @property
    def me(self) -> discord.ClientUser:
        assert self.client.user is not None
        return self.client.user

    def message(self, payload: p.Payload) -> discord.Message:
        channel, _ = self.state._get_guild_channel(payload)
        return discord.Message(state=self.state, channel=channel, data=payload)  # type: ignore[arg-type]

    def inbound(self, payload: p.Payload, config: DiscordConfig | None = None) -> Inbound | None:
        config = config or DiscordConfig(token="t", agent_id="agent-1")
        arrival = arrival_from_message(self.message(payload), self.me, config.agent_id)
        return through_intake(arrival, policies=config.policies, peers=config.serving.peer_agents)


@pytest.fixture
def gateway() -> Gateway:
    return Gateway()


def said_in(world: DiscordWorld, channel: p.Payload, text: str, **extra: Any) -> p.Payload:
    return p.message(channel["id"], world.alice, text, guild_id=world.guild_id, **extra)


def mentioning(gateway: Gateway, channel: p.Payload, text: str) -> p.Payload:
    bot = gateway.fake.bot
    return said_in(gateway.world, channel, f"{p.mention(bot)} {text}", mentions=[bot])


def test_dm_is_answered_in_the_users_own_dm_workspace(gateway: Gateway) -> None:
    world = gateway.world
    inbound = gateway.inbound(p.message(world.alice_dm["id"], world.alice, "I love tea"))

    assert inbound is not None
    assert inbound.audience.kind is AudienceKind.DM
    assert inbound.audience.user == world.alice["id"]
    assert inbound.workspace == f"discord:dm:{world.alice['id']}"
    assert inbound.channel == world.alice_dm["id"]
    assert (inbound.respond, inbound.text, inbound.thread) == (True, "I love tea", "")
    assert inbound.author.id == world.alice["id"]


def test_dm_workspace_is_never_a_guild_workspace(gateway: Gateway) -> None:
    world = gateway.world
    dm = gateway.inbound(p.message(world.alice_dm["id"], world.alice, "secret"))
    public = gateway.inbound(mentioning(gateway, world.general, "hi"))

    assert dm is not None
    assert public is not None
    assert not public.audience.can_read(dm.workspace, dm.audience.write_scope)


def test_mention_in_public_channel_is_answered_for_the_whole_guild(gateway: Gateway) -> None:
    world = gateway.world
    inbound = gateway.inbound(mentioning(gateway, world.general, "what's new?"))

    assert inbound is not None
    assert inbound.audience.kind is AudienceKind.PUBLIC
    assert inbound.workspace == f"discord:{world.guild_id}"
    assert inbound.channel == world.general["id"]
    assert inbound.text == "what's new?"
    assert inbound.respond
    assert inbound.mentions == (gateway.fake.bot["id"],)
    assert inbound.channel_name == "#general"


def test_message_id_is_both_event_id_and_message_ref(gateway: Gateway) -> None:
    payload = mentioning(gateway, gateway.world.general, "hi")
    inbound = gateway.inbound(payload)

    assert inbound is not None
    assert inbound.event_id == inbound.message_ref == payload["id"]


def test_channel_hidden_from_everyone_is_private_to_that_channel(gateway: Gateway) -> None:
    world = gateway.world
    inbound = gateway.inbound(mentioning(gateway, world.staff, "the raise is 5%"))

    assert inbound is not None
    assert inbound.audience.kind is AudienceKind.PRIVATE
    assert inbound.audience.write_scope == Scope.private(world.staff["id"])


def test_public_thread_is_its_own_conversation_with_its_parents_audience(
    gateway: Gateway,
) -> None:
    world = gateway.world
    inbound = gateway.inbound(mentioning(gateway, world.public_thread, "in a thread"))

    assert inbound is not None
    assert inbound.audience.kind is AudienceKind.PUBLIC
    assert inbound.channel == world.general["id"]
    assert inbound.thread == world.public_thread["id"]


def test_private_thread_is_private_to_itself(gateway: Gateway) -> None:
    world = gateway.world
    inbound = gateway.inbound(mentioning(gateway, world.private_thread, "just us"))

    assert inbound is not None
    assert inbound.audience.kind is AudienceKind.PRIVATE
    assert inbound.channel == world.private_thread["id"]
    assert inbound.audience.write_scope == Scope.private(world.private_thread["id"])


def test_two_guilds_are_two_workspaces(gateway: Gateway) -> None:
    world = gateway.world
    bot = gateway.fake.bot
    elsewhere = p.message(
        world.second_general["id"],
        world.bob,
        f"{p.mention(bot)} hi",
        guild_id=world.second_guild_id,
        mentions=[bot],
    )
    first = gateway.inbound(mentioning(gateway, world.general, "hi"))
    second = gateway.inbound(elsewhere)

    assert first is not None
    assert second is not None
    assert first.workspace != second.workspace


def test_unaddressed_message_is_dropped_under_the_mention_policy(gateway: Gateway) -> None:
    assert gateway.inbound(said_in(gateway.world, gateway.world.general, "chatter")) is None


def test_everyone_ping_does_not_wake_the_agent(gateway: Gateway) -> None:
    payload = said_in(gateway.world, gateway.world.general, "@everyone party at 5")
    payload["mention_everyone"] = True

    assert gateway.inbound(payload) is None


def test_listen_policy_remembers_without_answering(gateway: Gateway) -> None:
    world = gateway.world
    config = DiscordConfig(
        token="t",
        agent_id="agent-1",
        message_content=True,
        channel_policies={world.general["id"]: ChannelPolicy.LISTEN},
    )
    heard = gateway.inbound(said_in(world, world.general, "chatter"), config)
    addressed = gateway.inbound(mentioning(gateway, world.general, "and you?"), config)

    assert heard is not None
    assert not heard.respond
    assert addressed is not None
    assert addressed.respond


def test_open_policy_answers_everything_and_threads_follow_their_parent(
    gateway: Gateway,
) -> None:
    world = gateway.world
    config = DiscordConfig(
        token="t",
        agent_id="agent-1",
        message_content=True,
        channel_policies={world.general["id"]: ChannelPolicy.OPEN},
    )
    inbound = gateway.inbound(said_in(world, world.public_thread, "anyone?"), config)

    assert inbound is not None
    assert inbound.respond


def test_reply_to_the_bots_message_counts_as_addressing_it(gateway: Gateway) -> None:
    world = gateway.world
    bots_message = p.message(
        world.general["id"], gateway.fake.bot, "hello", guild_id=world.guild_id
    )
    payload = said_in(
        world,
        world.general,
        "thanks!",
        reference={"message_id": bots_message["id"], "channel_id": world.general["id"]},
    )
    payload["referenced_message"] = bots_message

    inbound = gateway.inbound(payload)

    assert inbound is not None
    assert inbound.respond
    assert inbound.text == "thanks!"


def test_own_messages_and_other_bots_are_ignored(gateway: Gateway) -> None:
    world = gateway.world
    own = p.message(world.alice_dm["id"], gateway.fake.bot, "my own reply")
    other_bot = p.message(
        world.general["id"],
        world.other_bot,
        f"{p.mention(gateway.fake.bot)} beep",
        guild_id=world.guild_id,
        mentions=[gateway.fake.bot],
    )

    assert gateway.inbound(own) is None
    assert gateway.inbound(other_bot) is None


def test_other_peoples_mentions_read_as_names(gateway: Gateway) -> None:
    world = gateway.world
    bot = gateway.fake.bot
    payload = said_in(
        world,
        world.general,
        f"{p.mention(bot)} say hi to {p.mention(world.bob)} please",
        mentions=[bot, world.bob],
    )

    inbound = gateway.inbound(payload)

    assert inbound is not None
    assert inbound.text == "say hi to @bob please"


def test_code_in_a_message_keeps_its_indentation(gateway: Gateway) -> None:
    world = gateway.world
    code = "```py\ndef f():\n    return 1\n```"
    inbound = gateway.inbound(p.message(world.alice_dm["id"], world.alice, code))

    assert inbound is not None
    assert inbound.text == code


def test_message_without_text_is_dropped(gateway: Gateway) -> None:
    world = gateway.world
    reached = gateway.inbound(p.message(world.alice_dm["id"], world.alice, ""))
    # The engine's admission is the one place that refuses an empty message.
    assert reached is not None
    assert admit(reached).inbound is None
