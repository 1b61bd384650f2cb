"""What a person had Mnemo forget stays forgotten when a channel's history is read again: an
admin running ``/mnemo learn-channel`` a second time (or the bot rejoining) never brings back
the words of someone who asked to be forgotten, nor a message they had forgotten."""

from __future__ import annotations

from engine import PlatformMessage
from tests.fakes.slack_world import SlackWorld
from tests.integration.test_slack_backfill import (  # api and world: the fixtures
    FREEZE,
    LUNCH,
    WORKSPACE,
    api,
    conversation,
    learn,
    learned,
    sent_at,
    world,
)

__all__ = ["api", "world"]


async def learn_again(world: SlackWorld) -> None:
    await learn(world)
    await learned(world, "CGEN")


async def test_a_forgotten_person_is_not_read_back_from_history(world: SlackWorld) -> None:
    await learn_again(world)
    assert await conversation(world, "CGEN", LUNCH)

    await world.runtime.user_data.forget_user(WORKSPACE, "UBEN")
    assert await conversation(world, "CGEN", LUNCH) == []
    await learn_again(world)

    assert await conversation(world, "CGEN", LUNCH) == []
    thread = await conversation(world, "CGEN", FREEZE)
    assert [m.author for m in thread] == ["UANN", "UANN"]


async def test_a_forgotten_message_is_not_read_back_from_history(world: SlackWorld) -> None:
    await learn_again(world)
    lunch = PlatformMessage(
        WORKSPACE, "CGEN", LUNCH, "UBEN", "Ben", "Lunch is at noon", sent_at(LUNCH)
    )
    assert await world.runtime.user_data.forget_message(lunch, "UBEN") is not None
    assert await conversation(world, "CGEN", LUNCH) == []
    await learn_again(world)

    assert await conversation(world, "CGEN", LUNCH) == []
