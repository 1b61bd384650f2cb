"""Reading a channel's history keeps what the bot would have kept hearing it live: in a
channel whose policy is ``mention`` (the default) only the messages that mention the bot are
remembered, so joining such a channel never pulls everyone's past words into recall."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.policy import ChannelPolicy
from tests.fakes import slack_payloads
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.slack_world import slack_bot
from tests.integration.test_slack_backfill import conversation, learn, learned, said, ts_at

BOT = slack_payloads.BOT_USER
ASKED = ts_at(2, 1)
CHATTER = ts_at(2, 2)


@pytest.fixture
async def api() -> AsyncIterator[FakeSlackApi]:
    fake = FakeSlackApi(
        team_id=slack_payloads.TEAM,
        users={"UANN": {"name": "ann", "profile": {"display_name": "Ann"}, "is_admin": True}},
        channels=slack_payloads.CHANNELS,
        assistant_threads=False,
        archive={
            "CGEN": [
                said("UANN", f"<@{BOT}> the standup moved to 9:30", ASKED),
                said("UANN", "My divorce hearing is on Thursday", CHATTER),
            ]
        },
    )
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


@pytest.mark.parametrize(
    ("policy", "kept"),
    [
        (ChannelPolicy.MENTION, [ASKED]),
        (ChannelPolicy.LISTEN, [ASKED, CHATTER]),
    ],
)
async def test_history_of_a_channel_keeps_only_what_its_policy_lets_the_bot_hear(
    tmp_path: Path, api: FakeSlackApi, policy: ChannelPolicy, kept: list[str]
) -> None:
    async with FakeOpenAI() as llm, slack_bot(tmp_path, llm, api, default_policy=policy) as world:
        answer = await learn(world)
        progress = await learned(world, "CGEN")

        only_mentions = "keeping only those that mention me, as this channel's policy says"
        assert (only_mentions in answer) is (policy is ChannelPolicy.MENTION)

        stored = [ts for ts in (ASKED, CHATTER) if await conversation(world, "CGEN", ts)]
        assert stored == kept
        assert (progress.read, progress.stored) == (2, len(kept))
        assert world.llm.chat_requests == []
