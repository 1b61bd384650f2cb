"""The agent-to-agent traffic policy: hop limit, loop detection, pair rate limit, and how
adapters hear another agent's bot user talking in a channel (the intake step itself is in
test_intake_traffic.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters.discord import DiscordConfig
from adapters.discord.inbound import arrival_from_message
from adapters.intake import ChannelTraffic
from adapters.policy import ChannelPolicies, ChannelPolicy
from adapters.serving import Serving
from adapters.slack.events import arrival_of, parse_event
from engine.audience import AudienceKind
from engine.messaging import TrafficGuard, TrafficLimits
from engine.messaging.channels import PeerAgent
from engine.messaging.guard import similarity
from engine.messaging.mail import agent_thread, thread_peer
from engine.records import Author, Inbound
from tests.fakes import discord_payloads
from tests.unit.intake_doubles import through_intake
from tests.unit.test_discord_inbound import Gateway


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_hop_limit_refuses_the_message_past_it() -> None:
    policy = TrafficGuard(TrafficLimits(max_hops=3))
    assert policy.check("a", "b", "t", 3, "third").allowed
    verdict = policy.check("b", "a", "t", 4, "fourth")
    assert not verdict.allowed
    assert "limit of 3" in verdict.reason


def test_pair_rate_limit_counts_both_directions_and_recovers() -> None:
    clock = Clock()
    policy = TrafficGuard(TrafficLimits(pair_rate=2, rate_window=10), clock=clock)
    assert policy.check("a", "b", "t1", 1, "one").allowed
    assert policy.check("b", "a", "t2", 1, "two").allowed
    assert not policy.check("a", "b", "t3", 1, "three").allowed
    assert policy.check("a", "c", "t3", 1, "another pair").allowed
    clock.now = 11
    assert policy.check("a", "b", "t3", 1, "three").allowed


def test_repeating_a_recent_message_to_the_same_agent_is_a_loop() -> None:
    policy = TrafficGuard()
    assert policy.check("a", "b", "t", 1, "Thanks! Anything else I can do?").allowed
    assert policy.check("a", "b", "t", 2, "Something different entirely").allowed
    verdict = policy.check("a", "b", "t", 3, "thanks, anything else I can do")
    assert not verdict.allowed
    assert "looping" in verdict.reason
    assert policy.check("a", "c", "t", 1, "thanks, anything else I can do").allowed


def test_similarity_is_word_overlap() -> None:
    assert similarity("a b c", "c b a") == 1.0
    assert similarity("a b", "c d") == 0.0


def test_agent_thread_names_the_sender_and_the_thread_asked_from() -> None:
    assert thread_peer(agent_thread("A1", "T9:x")) == ("A1", "T9:x")
    assert thread_peer(agent_thread("A1")) == ("A1", "")


# -- the adapters' side: another agent's bot user is heard, other bots are not ---------------


def slack_callback(user: str, text: str, **fields: Any) -> dict[str, Any]:
    event = {
        "type": "message",
        "channel": "C1",
        "channel_type": "channel",
        "user": user,
        "bot_id": "B-" + user,
        "text": text,
        "ts": "1700000000.000200",
        **fields,
    }
    return {"type": "event_callback", "team_id": "T1", "event_id": "Ev9", "event": event}


SLACK_PEERS = {"UALPHA": PeerAgent("A", "alpha"), "UBETA": PeerAgent("B", "beta")}


def slack_intake(
    body: dict[str, Any],
    bot_user: str,
    peers: Mapping[str, PeerAgent] | None = None,
    traffic: ChannelTraffic | None = None,
) -> Inbound | None:
    """What agent B's Slack bot hands the engine for ``body`` in a mention-only channel."""
    parsed = parse_event(body, bot_user)
    assert parsed is not None
    arrival = arrival_of(
        parsed, agent_id="B", audience_kind=AudienceKind.PUBLIC, author_name="alpha-bot"
    )
    policies = ChannelPolicies(ChannelPolicy.MENTION)
    return through_intake(arrival, policies=policies, peers=peers, traffic=traffic)


def test_slack_message_from_a_peer_agents_bot_user_reaches_the_mentioned_agent() -> None:
    body = slack_callback("UALPHA", "<@UBETA> can you check the logs?")
    assert slack_intake(body, "UBETA") is None  # bots are ignored unless they are peer agents
    parsed = parse_event(body, "UBETA")
    assert parsed is not None
    assert parsed.mentions_bot
    admitted = slack_intake(body, "UBETA", SLACK_PEERS, ChannelTraffic(TrafficGuard()))
    assert admitted is not None
    assert admitted.author == Author("A", "alpha", is_agent=True, is_bot=True)
    assert (admitted.hops, admitted.respond, admitted.text) == (1, True, "can you check the logs?")


def test_slack_own_messages_stay_ignored_even_when_listed_as_peers() -> None:
    assert slack_intake(slack_callback("UBETA", "<@UALPHA> hi"), "UBETA", SLACK_PEERS) is None
    assert slack_intake(slack_callback("UOTHER", "<@UBETA> hi"), "UBETA", SLACK_PEERS) is None


def test_discord_message_from_a_peer_agents_bot_is_kept_and_other_bots_are_not() -> None:
    gateway = Gateway()
    bot = gateway.fake.bot
    world = gateway.world
    peer = discord_payloads.user("9001", "alpha-bot", bot=True)
    stranger = discord_payloads.user("9002", "some-bot", bot=True)
    config = DiscordConfig(
        token="t", agent_id="B", serving=Serving(peer_agents={"9001": PeerAgent("A", "alpha")})
    )

    def said_by(author: discord_payloads.Payload) -> Inbound | None:
        payload = discord_payloads.message(
            world.general["id"],
            author,
            f"{discord_payloads.mention(bot)} status?",
            guild_id=world.guild_id,
            mentions=[bot],
        )
        arrival = arrival_from_message(gateway.message(payload), gateway.me, config.agent_id)
        return through_intake(arrival, policies=config.policies, peers=config.serving.peer_agents)

    heard = said_by(peer)
    assert heard is not None
    assert heard.author.id == "9001"
    assert said_by(stranger) is None
