"""Discord jump URLs, as citations link to the messages a memory came from."""

from __future__ import annotations

from adapters.discord.links import jump_url


def test_a_guild_message_links_to_its_channel_and_a_thread_message_to_its_thread() -> None:
    assert jump_url("discord:42", "100", "7") == "https://discord.com/channels/42/100/7"
    assert jump_url("discord:42", "100", "7", "555") == "https://discord.com/channels/42/555/7"


def test_a_dm_links_through_at_me() -> None:
    assert jump_url("discord:dm:9", "300", "8") == "https://discord.com/channels/@me/300/8"


def test_no_link_for_another_platform_or_ids_that_are_not_snowflakes() -> None:
    assert jump_url("slack:T1", "100", "7") is None
    assert jump_url("discord:42", "100", "") is None
    assert jump_url("discord:42", "general", "7") is None
    assert jump_url("discord:x/../y", "100", "7") is None
