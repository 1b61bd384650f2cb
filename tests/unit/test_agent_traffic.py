"""The agent-to-agent traffic policy: hop limit, loop detection, pair rate limit, and how
adapters apply it to agents talking in a channel."""

from __future__ import annotations

import dataclasses
from typing import Any

from adapters.discord import DiscordConfig
from adapters.discord.inbound import inbound_from_message
from adapters.policy import ChannelPolicy
from adapters.slack.events import build_inbound, parse_event
from engine.audience import Audience, AudienceKind
from engine.messaging import ChannelTraffic, TrafficLimits, TrafficPolicy
from engine.messaging.channels import PeerAgent
from engine.messaging.mail import agent_thread, thread_peer
from engine.messaging.policy import similarity
from engine.records import Author, Inbound, InboundKind, utcnow
from tests.fakes import discord_payloads
from tests.unit.test_discord_inbound import Gateway


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_hop_limit_refuses_the_message_past_it() -> None:
    policy = TrafficPolicy(TrafficLimits(max_hops=3))
    assert policy.check("a", "b", "t", 3, "third").allowed
    verdict = policy.check("b", "a", "t", 4, "fourth")
    assert not verdict.allowed
    assert "limit of 3" in verdict.reason


def test_pair_rate_limit_counts_both_directions_and_recovers() -> None:
    clock = Clock()
    policy = TrafficPolicy(TrafficLimits(pair_rate=2, rate_window=10), clock=clock)
    assert policy.check("a", "b", "t1", 1, "one").allowed
    assert policy.check("b", "a", "t2", 1, "two").allowed
    assert not policy.check("a", "b", "t3", 1, "three").allowed
    assert policy.check("a", "c", "t3", 1, "another pair").allowed
    clock.now = 11
    assert policy.check("a", "b", "t3", 1, "three").allowed


def test_repeating_a_recent_message_to_the_same_agent_is_a_loop() -> None:
    policy = TrafficPolicy()
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


def message(author: str, ref: str, *, agent: str = "B", respond: bool = True) -> Inbound:
    return Inbound(
        platform="slack",
        agent_id=agent,
        audience=Audience("slack:T1", AudienceKind.PUBLIC, "C1"),
        thread="T1",
        author=Author(author, author),
        text=f"message {ref} from {author}",
        event_id=f"e-{ref}-{agent}",
        message_ref=ref,
        sent_at=utcnow(),
        respond=respond,
    )


PEERS = {"U_A": PeerAgent("A", "alpha"), "U_B": PeerAgent("B", "beta")}


def test_message_from_a_peer_bot_becomes_an_agent_message_with_the_thread_hop_count() -> None:
    traffic = ChannelTraffic(TrafficPolicy(TrafficLimits(max_hops=10)))
    first = traffic.admit(message("U_A", "1"), PEERS)
    assert first.author == Author("A", "alpha", is_agent=True, is_bot=True)
    assert (first.hops, first.respond) == (1, True)
    # The same message seen by a third agent's adapter counts once.
    same = traffic.admit(message("U_A", "1", agent="C"), PEERS)
    assert same.hops == 1
    second = traffic.admit(message("U_B", "2", agent="A"), PEERS)
    assert second.hops == 2


def test_agents_stop_answering_each_other_at_the_hop_limit_until_a_person_speaks() -> None:
    traffic = ChannelTraffic(TrafficPolicy(TrafficLimits(max_hops=3)))
    assert traffic.admit(message("U_A", "1"), PEERS).respond
    assert traffic.admit(message("U_B", "2", agent="A"), PEERS).respond
    last = traffic.admit(message("U_A", "3"), PEERS)
    assert last.hops == 3
    assert not last.respond  # an answer would be a fourth agent message
    person = traffic.admit(message("U_PERSON", "4"), PEERS)
    assert person.respond
    assert not person.author.is_agent
    assert person.hops == 0
    assert traffic.admit(message("U_A", "5"), PEERS).hops == 1


def test_messages_that_asked_for_no_answer_and_edits_pass_unchanged_in_intent() -> None:
    traffic = ChannelTraffic(TrafficPolicy())
    quiet = traffic.admit(message("U_A", "1", respond=False), PEERS)
    assert quiet.author.is_agent
    assert not quiet.respond
    edit = dataclasses.replace(message("U_A", "1"), kind=InboundKind.EDIT)
    assert traffic.admit(edit, PEERS) is edit


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


def test_slack_message_from_a_peer_agents_bot_user_reaches_the_mentioned_agent() -> None:
    body = slack_callback("UALPHA", "<@UBETA> can you check the logs?")
    assert parse_event(body, "UBETA") is None  # bots are ignored unless they are peer agents
    parsed = parse_event(body, "UBETA", SLACK_PEERS)
    assert parsed is not None
    assert parsed.mentions_bot
    inbound = build_inbound(
        parsed,
        agent_id="B",
        policy=ChannelPolicy.MENTION,
        audience_kind=AudienceKind.PUBLIC,
        author_name="alpha-bot",
    )
    assert inbound is not None
    admitted = ChannelTraffic(TrafficPolicy()).admit(inbound, SLACK_PEERS)
    assert admitted.author == Author("A", "alpha", is_agent=True, is_bot=True)
    assert (admitted.hops, admitted.respond, admitted.text) == (1, True, "can you check the logs?")


def test_slack_own_messages_stay_ignored_even_when_listed_as_peers() -> None:
    assert parse_event(slack_callback("UBETA", "<@UALPHA> hi"), "UBETA", SLACK_PEERS) is None
    assert parse_event(slack_callback("UOTHER", "<@UBETA> hi"), "UBETA", SLACK_PEERS) is None


def test_discord_message_from_a_peer_agents_bot_is_kept_and_other_bots_are_not() -> None:
    gateway = Gateway()
    bot = gateway.fake.bot
    world = gateway.world
    peer = discord_payloads.user("9001", "alpha-bot", bot=True)
    stranger = discord_payloads.user("9002", "some-bot", bot=True)
    config = DiscordConfig(token="t", agent_id="B", peer_agents={"9001": PeerAgent("A", "alpha")})

    def said_by(author: discord_payloads.Payload) -> Inbound | None:
        payload = discord_payloads.message(
            world.general["id"],
            author,
            f"{discord_payloads.mention(bot)} status?",
            guild_id=world.guild_id,
            mentions=[bot],
        )
        return inbound_from_message(gateway.message(payload), gateway.me, config)

    heard = said_by(peer)
    assert heard is not None
    assert heard.author.id == "9001"
    assert said_by(stranger) is None
