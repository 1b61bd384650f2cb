"""DiscordConfig: errors a newcomer can act on, and per-channel policies."""

from __future__ import annotations

import pytest

from adapters.discord import ChannelPolicy, DiscordConfig, gateway_intents


def test_empty_token_says_where_to_get_one() -> None:
    with pytest.raises(ValueError, match="developer portal"):
        DiscordConfig(token=" ", agent_id="a")


def test_listen_policy_without_message_content_intent_is_refused() -> None:
    with pytest.raises(ValueError, match="Message Content intent"):
        DiscordConfig(token="t", agent_id="a", default_policy=ChannelPolicy.LISTEN)


def test_thread_follows_its_parent_unless_it_has_its_own_policy() -> None:
    config = DiscordConfig(
        token="t",
        agent_id="a",
        message_content=True,
        channel_policies={"parent": ChannelPolicy.OPEN, "quiet-thread": ChannelPolicy.MENTION},
    )

    assert config.policies.policy_of(("thread", "parent")) is ChannelPolicy.OPEN
    assert config.policies.policy_of(("quiet-thread", "parent")) is ChannelPolicy.MENTION
    assert config.policies.policy_of(("elsewhere",)) is ChannelPolicy.MENTION


def test_message_content_intent_is_only_asked_for_when_enabled() -> None:
    plain = gateway_intents(DiscordConfig(token="t", agent_id="a"))
    listening = gateway_intents(DiscordConfig(token="t", agent_id="a", message_content=True))

    assert not plain.message_content
    assert listening.message_content
    assert plain.guild_messages
    assert plain.dm_messages
    assert plain.guilds
    assert not plain.members
    assert not plain.presences


def test_rate_limit_wait_below_discord_py_floor_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 30"):
        DiscordConfig(token="t", agent_id="a", max_rate_limit_wait=5)
