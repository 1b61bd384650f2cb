"""A small Discord server for tests: one guild with public and private places, two people, a
bot that is not us, and a DM channel each."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from adapters.discord import DiscordConfig
from engine.ports import ForgetReport, ReceiveOutcome, ReceiveResult, UserMemoryReport
from engine.records import JSON, Inbound
from tests.fakes import discord_payloads as p
from tests.fakes.discord_rest import FakeDiscord
from tests.fakes.memory_items import MemoryItemsDouble

#: Seconds a test waits for something the bot does concurrently (generous: the machine is shared).
PATIENCE = 15.0
POLL_INTERVAL = 0.01


@dataclass(frozen=True)
class DiscordWorld:
    guild_id: str
    general: p.Payload  # readable by @everyone
    staff: p.Payload  # @everyone denied VIEW_CHANNEL
    public_thread: p.Payload  # in #general
    private_thread: p.Payload  # in #general, members only
    alice: p.Payload
    bob: p.Payload
    other_bot: p.Payload
    alice_dm: p.Payload
    bob_dm: p.Payload
    second_guild_id: str
    second_general: p.Payload


def build_world(fake: FakeDiscord) -> DiscordWorld:
    """Populate ``fake`` and return handles to what it holds."""
    alice = p.user(p.snowflake(), "alice")
    bob = p.user(p.snowflake(), "bob")
    other_bot = p.user(p.snowflake(), "otherbot", bot=True)
    guild_id = p.snowflake()
    general = p.text_channel(p.snowflake(), guild_id, "general")
    staff = p.text_channel(p.snowflake(), guild_id, "staff", everyone_can_read=False)
    public_thread = p.thread(p.snowflake(), guild_id, general["id"], alice["id"])
    private_thread = p.thread(p.snowflake(), guild_id, general["id"], alice["id"], private=True)
    fake.add_guild(
        p.guild(
            guild_id,
            "Mnemo fans",
            alice["id"],
            channels=[general, staff],
            threads=[public_thread, private_thread],
            members=[p.member(fake.bot)],
        )
    )
    second_guild_id = p.snowflake()
    second_general = p.text_channel(p.snowflake(), second_guild_id, "general")
    fake.add_guild(
        p.guild(
            second_guild_id,
            "Elsewhere",
            bob["id"],
            channels=[second_general],
            members=[p.member(fake.bot)],
        )
    )
    alice_dm = p.dm_channel(p.snowflake(), alice)
    bob_dm = p.dm_channel(p.snowflake(), bob)
    fake.add_dm(alice_dm)
    fake.add_dm(bob_dm)
    return DiscordWorld(
        guild_id=guild_id,
        general=general,
        staff=staff,
        public_thread=public_thread,
        private_thread=private_thread,
        alice=alice,
        bob=bob,
        other_bot=other_bot,
        alice_dm=alice_dm,
        bob_dm=bob_dm,
        second_guild_id=second_guild_id,
        second_general=second_general,
    )


def bot_config(fake: FakeDiscord, **overrides: Any) -> DiscordConfig:
    """Settings of a bot pointed at ``fake``, quick to become ready."""
    settings: dict[str, Any] = {
        "token": fake.token,
        "agent_id": "agent-1",
        "api_base": fake.api_base,
        "gateway_url": fake.gateway_url,
        "guild_ready_timeout": 0.05,
        "start_timeout": 10.0,
    }
    settings.update(overrides)
    return DiscordConfig(**settings)


async def eventually(check: Callable[[], bool], what: str) -> None:
    """Wait until ``check()`` holds (the bot works concurrently with the test)."""
    for _ in range(int(PATIENCE / POLL_INTERVAL)):
        if check():
            return
        await asyncio.sleep(POLL_INTERVAL)
    raise AssertionError(f"timed out after {PATIENCE} s waiting for {what}")


class NoInbox:
    """The engine's intake accepting everything (delivery and command tests)."""

    async def receive(self, inbound: Inbound) -> ReceiveResult:
        return ReceiveResult(ReceiveOutcome.ACCEPTED)

    async def reject(self, platform: str, raw: JSON, error: str) -> None:
        return None


class NoMemory(MemoryItemsDouble):
    """The engine's user-memory port with nothing kept."""

    async def about_user(self, workspace: str, user: str) -> UserMemoryReport:
        return UserMemoryReport(workspace, user, (), (), 0)

    async def forget_user(self, workspace: str, user: str) -> ForgetReport:
        return ForgetReport()

    async def export_user(self, workspace: str, user: str) -> bytes:
        return b"{}"
