"""/memory, /forget and /export driven by INTERACTION_CREATE payloads through discord.py's own
command tree: deferred at once, answered only to the user, acting on the right workspace."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest

from adapters.discord import DiscordAdapter
from engine.audience import Scope
from engine.ports import ForgetReport, UserMemoryReport
from tests.fakes import discord_payloads as p
from tests.fakes.discord_rest import EPHEMERAL, FakeDiscord, PostedMessage
from tests.fakes.discord_world import DiscordWorld, NoInbox, bot_config, eventually
from tests.fakes.memory_items import MemoryItemsDouble

CHANNEL_MESSAGE = 4
DEFERRED_CHANNEL_MESSAGE = 5
UPDATE_MESSAGE = 7


class RecordingMemory(MemoryItemsDouble):
    """The engine's user-memory port, remembering what it was asked."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, str, str]] = []

    async def about_user(self, workspace: str, user: str) -> UserMemoryReport:
        self.calls.append(("about", workspace, user))
        return UserMemoryReport(
            workspace, user, (("human", Scope.workspace(), "Likes tea."),), (), 4
        )

    async def forget_user(self, workspace: str, user: str) -> ForgetReport:
        self.calls.append(("forget", workspace, user))
        return ForgetReport(messages=9, block_lines=1)

    async def export_user(self, workspace: str, user: str) -> bytes:
        self.calls.append(("export", workspace, user))
        return b'{"user": "%s"}' % user.encode()


@pytest.fixture
def memory() -> RecordingMemory:
    return RecordingMemory()


@pytest.fixture
async def bot(
    fake: FakeDiscord, world: DiscordWorld, memory: RecordingMemory
) -> AsyncIterator[DiscordAdapter]:
    adapter = DiscordAdapter(bot_config(fake), NoInbox(), memory)
    await adapter.start()
    yield adapter
    await adapter.stop()


async def run_command(
    fake: FakeDiscord, name: str, user: p.Payload, channel: p.Payload, guild_id: str | None
) -> PostedMessage:
    """Invoke ``/name`` and return the follow-up the bot answers with."""
    before = len(fake.followups)
    interaction = p.slash_command(
        fake.application_id,
        name,
        user,
        channel,
        command_id=fake.command_id(name),
        guild_id=guild_id,
    )
    await fake.gateway.dispatch("INTERACTION_CREATE", interaction)
    await eventually(lambda: len(fake.followups) > before, f"the answer to /{name}")
    [callback] = [c for i, c in fake.interaction_callbacks if i == interaction["id"]]
    assert callback["type"] == DEFERRED_CHANNEL_MESSAGE
    assert callback["data"]["flags"] & EPHEMERAL
    return fake.followups[before]


async def press(
    fake: FakeDiscord,
    custom_id: str,
    user: p.Payload,
    channel: p.Payload,
    on: PostedMessage,
    guild_id: str | None,
) -> str:
    pressed_on = {**on.payload, "channel_id": channel["id"]}
    interaction = p.button_press(
        fake.application_id, custom_id, user, channel, pressed_on, guild_id=guild_id
    )
    await fake.gateway.dispatch("INTERACTION_CREATE", interaction)
    return str(interaction["id"])


async def test_memory_is_deferred_then_shown_only_to_the_user(
    fake: FakeDiscord, world: DiscordWorld, memory: RecordingMemory, bot: DiscordAdapter
) -> None:
    answer = await run_command(fake, "memory", world.alice, world.general, world.guild_id)

    assert answer.ephemeral
    assert "Likes tea." in answer.content
    assert memory.calls == [("about", f"discord:{world.guild_id}", world.alice["id"])]


async def test_memory_in_a_dm_reads_the_users_dm_workspace(
    fake: FakeDiscord, world: DiscordWorld, memory: RecordingMemory, bot: DiscordAdapter
) -> None:
    await run_command(fake, "memory", world.alice, world.alice_dm, None)

    assert memory.calls == [("about", f"discord:dm:{world.alice['id']}", world.alice["id"])]


async def test_export_sends_a_json_file_only_to_the_user(
    fake: FakeDiscord, world: DiscordWorld, memory: RecordingMemory, bot: DiscordAdapter
) -> None:
    answer = await run_command(fake, "export", world.alice, world.general, world.guild_id)

    assert answer.ephemeral
    [(filename, content)] = answer.files.items()
    assert filename.endswith(".json")
    assert world.alice["id"].encode() in content


async def test_forget_deletes_only_after_confirmation(
    fake: FakeDiscord, world: DiscordWorld, memory: RecordingMemory, bot: DiscordAdapter
) -> None:
    question = await run_command(fake, "forget", world.alice, world.general, world.guild_id)
    assert question.ephemeral
    assert memory.calls == []

    pressed = await press(
        fake, "mnemo:forget:confirm", world.alice, world.general, question, world.guild_id
    )

    await eventually(
        lambda: any(
            "9 messages, 1 line of my notes" in str(e.get("content")) for _, e in fake.edits
        ),
        "done",
    )
    assert memory.calls == [("forget", f"discord:{world.guild_id}", world.alice["id"])]
    assert [c["type"] for i, c in fake.interaction_callbacks if i == pressed] == [UPDATE_MESSAGE]


async def test_forget_cancelled_deletes_nothing(
    fake: FakeDiscord, world: DiscordWorld, memory: RecordingMemory, bot: DiscordAdapter
) -> None:
    question = await run_command(fake, "forget", world.alice, world.alice_dm, None)

    pressed = await press(fake, "mnemo:forget:cancel", world.alice, world.alice_dm, question, None)

    await eventually(lambda: any(i == pressed for i, _ in fake.interaction_callbacks), "cancel")
    [update] = [c for i, c in fake.interaction_callbacks if i == pressed]
    assert update["data"]["content"] == "Nothing was deleted."
    assert memory.calls == []


async def test_someone_else_cannot_confirm_your_forget(
    fake: FakeDiscord, world: DiscordWorld, memory: RecordingMemory, bot: DiscordAdapter
) -> None:
    question = await run_command(fake, "forget", world.alice, world.general, world.guild_id)

    bobs = await press(
        fake, "mnemo:forget:confirm", world.bob, world.general, question, world.guild_id
    )
    alices = await press(
        fake, "mnemo:forget:cancel", world.alice, world.general, question, world.guild_id
    )

    await eventually(lambda: {bobs, alices} <= {i for i, _ in fake.interaction_callbacks}, "both")
    [to_bob] = [c for i, c in fake.interaction_callbacks if i == bobs]
    assert to_bob["type"] == CHANNEL_MESSAGE
    assert to_bob["data"]["flags"] & EPHEMERAL
    assert memory.calls == []


async def test_a_command_the_bot_does_not_have_is_answered_not_logged_as_an_error(
    fake: FakeDiscord,
    world: DiscordWorld,
    bot: DiscordAdapter,
    caplog: pytest.LogCaptureFixture,
) -> None:
    interaction = p.slash_command(
        fake.application_id, "remind", world.alice, world.alice_dm, command_id=p.snowflake()
    )

    await fake.gateway.dispatch("INTERACTION_CREATE", interaction)

    await eventually(lambda: bool(fake.interaction_callbacks), "the answer to /remind")
    [(answered, callback)] = fake.interaction_callbacks
    assert answered == interaction["id"]
    assert callback["type"] == CHANNEL_MESSAGE
    assert callback["data"]["flags"] & EPHEMERAL
    assert "/memory" in callback["data"]["content"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
