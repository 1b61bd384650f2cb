"""Learning a Slack channel's history: ``/mnemo learn-channel`` and the bot joining a channel
read ``conversations.history`` and ``conversations.replies`` from the fake Web API into recall,
remembered with their authors, times, threads and the channel's audience, and never answered."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.history import ChannelHistory, HistoryBounds, HistoryTarget
from adapters.policy import ChannelPolicy
from adapters.serving import Serving
from adapters.slack import SlackConfig
from adapters.slack.directory import ChannelInfo, SlackDirectory
from adapters.slack.history import SlackChannelSource, reading_client
from engine import (
    Audience,
    AudienceKind,
    BackfillLedger,
    BackfillProgress,
    ConversationKey,
    Inbound,
    IntakePort,
    Message,
    ReceiveResult,
    RecordFilter,
    Role,
)
from engine.records import JSON
from tests.fakes import slack_payloads
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.slack_world import SlackWorld, slack_bot

TEAM = slack_payloads.TEAM
WORKSPACE = f"slack:{TEAM}"
PATIENCE = 30.0
POLL = 0.05
NOW = datetime.now(UTC).replace(microsecond=0)
#: A channel's policy under which every past message is kept (``mention`` keeps only mentions).
LISTEN = ChannelPolicy.LISTEN


def ts_at(days_ago: float, seq: int = 100) -> str:
    return f"{int((NOW - timedelta(days=days_ago)).timestamp())}.{seq:06d}"


FREEZE = ts_at(3)
NOTED = ts_at(2.9)
THANKS = ts_at(2.8)
LUNCH = ts_at(2)
JOIN = ts_at(1.5)
OWN = ts_at(1)
ANCIENT = ts_at(200)
SECRET = ts_at(4)


def said(user: str, text: str, ts: str, **extra: Any) -> dict[str, Any]:
    return {"type": "message", "user": user, "text": text, "ts": ts, **extra}


def general_history() -> list[dict[str, Any]]:
    return [
        said("UANN", "The deploy freeze starts Friday", FREEZE, thread_ts=FREEZE, reply_count=2),
        said("UBEN", "Noted, I'll move the release", NOTED, thread_ts=FREEZE),
        said("UANN", "Thanks Ben", THANKS, thread_ts=FREEZE),
        said("UBEN", "Lunch is at noon", LUNCH),
        said("UBEN", "<@UBEN> has joined the channel", JOIN, subtype="channel_join"),
        said("UBOT", "I answered something once", OWN, bot_id="BBOT"),
        said("UANN", "A message from long ago", ANCIENT),
    ]


@pytest.fixture
async def api() -> AsyncIterator[FakeSlackApi]:
    fake = FakeSlackApi(
        team_id=TEAM,
        users={
            "UANN": {"name": "ann", "profile": {"display_name": "Ann"}, "is_admin": True},
            "UBEN": {"name": "ben", "profile": {"display_name": "Ben"}},
        },
        channels=slack_payloads.CHANNELS,
        assistant_threads=False,
        archive={
            "CGEN": general_history(),
            "GSECRET": [said("UANN", "The acquisition code name is Bluebird", SECRET)],
        },
    )
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


@pytest.fixture
async def world(tmp_path: Path, api: FakeSlackApi) -> AsyncIterator[SlackWorld]:
    async with FakeOpenAI() as llm, slack_bot(tmp_path, llm, api, default_policy=LISTEN) as w:
        yield w


async def until[T](probe: Callable[[], Awaitable[T]], what: str) -> T:
    """Wait until ``probe()`` answers something true (the bot works concurrently)."""
    for _ in range(int(PATIENCE / POLL)):
        if found := await probe():
            return found
        await asyncio.sleep(POLL)
    raise AssertionError(f"timed out after {PATIENCE} s waiting for {what}")


async def learned(world: SlackWorld, channel: str) -> BackfillProgress:
    """The channel's history read, once it is done and every message it kept is in recall."""
    ledger = BackfillLedger(world.runtime.store.kv)
    agent = world.runtime.default_agent.id

    async def finished() -> BackfillProgress | None:
        found = await ledger.get("slack", agent, WORKSPACE, channel)
        return found if found is not None and found.state != "reading" else None

    progress = await until(finished, f"the history of {channel} read")
    await until(lambda: settled(world), "every past message stored")
    assert progress is not None
    return progress


async def settled(world: SlackWorld) -> bool:
    return await world.runtime.store.inbox.depth() == 0


async def conversation(world: SlackWorld, channel: str, thread: str) -> list[Message]:
    key = ConversationKey(world.runtime.default_agent.id, WORKSPACE, channel, thread)
    return await world.runtime.store.messages.recent(key, 0, 100)


async def learn(world: SlackWorld, user: str = "UANN", channel: str = "CGEN") -> str:
    """Run ``/mnemo learn-channel`` as ``user`` in ``channel``; the answer it gets."""
    key = f"learn-{user}-{channel}-{len(world.api.responses)}"
    form = slack_payloads.slash_command("learn-channel") | {
        "user_id": user,
        "channel_id": channel,
        "response_url": world.api.response_url(key),
    }
    ack = await world.interact(form)
    assert "history" in ack["text"]
    await world.api.wait_until(lambda: any(r["key"] == key for r in world.api.responses))
    return str(next(r for r in world.api.responses if r["key"] == key)["text"])


def sent_at(ts: str) -> datetime:
    return datetime.fromtimestamp(float(ts), UTC)


async def test_learn_channel_remembers_threads_authors_and_times_without_answering(
    world: SlackWorld,
) -> None:
    answer = await learn(world)
    progress = await learned(world, "CGEN")

    assert "Learning #general's history" in answer
    thread = await conversation(world, "CGEN", FREEZE)
    assert [(m.author, m.author_name, m.content) for m in thread] == [
        ("UANN", "Ann", "The deploy freeze starts Friday"),
        ("UBEN", "Ben", "Noted, I'll move the release"),
        ("UANN", "Ann", "Thanks Ben"),
    ]
    assert [m.created_at for m in thread] == [sent_at(FREEZE), sent_at(NOTED), sent_at(THANKS)]
    assert all(m.role is Role.USER and m.platform_ref for m in thread)
    [lunch] = await conversation(world, "CGEN", LUNCH)
    assert (lunch.author_name, lunch.content, lunch.created_at) == (
        "Ben",
        "Lunch is at noon",
        sent_at(LUNCH),
    )
    for left_out in (JOIN, OWN, ANCIENT):  # a notice, the bot's own words, past the 90 days
        assert await conversation(world, "CGEN", left_out) == []
    assert (progress.done, progress.read, progress.stored, progress.skipped) == (True, 6, 4, 2)
    assert world.api.posted() == []
    assert world.llm.chat_requests == []


async def test_private_channel_history_is_never_recalled_in_a_public_channel(
    world: SlackWorld,
) -> None:
    await learn(world, channel="GSECRET")
    await learned(world, "GSECRET")

    messages = world.runtime.store.messages
    agent = world.runtime.default_agent.id
    public = RecordFilter.for_audience(agent, Audience(WORKSPACE, AudienceKind.PUBLIC, "CGEN"))
    private = RecordFilter.for_audience(agent, Audience(WORKSPACE, AudienceKind.PRIVATE, "GSECRET"))
    assert await messages.search_text(public, "Bluebird", 10) == []
    [found] = await messages.search_text(private, "Bluebird", 10)
    assert found.record.author_name == "Ann"


async def test_a_partners_past_message_in_a_public_channel_stays_in_that_channel(
    world: SlackWorld,
) -> None:
    partner_said = ts_at(2.5)
    world.api.archive["CGEN"].append(
        said(
            "UPARTNER",
            "Our pricing floor is 40k",
            partner_said,
            team=slack_payloads.PARTNER,
            user_team=slack_payloads.PARTNER,
        )
    )
    await learn(world)
    await learned(world, "CGEN")

    messages = world.runtime.store.messages
    agent = world.runtime.default_agent.id
    elsewhere = RecordFilter.for_audience(
        agent, Audience(WORKSPACE, AudienceKind.PUBLIC, "CRANDOM")
    )
    in_general = RecordFilter.for_audience(agent, Audience(WORKSPACE, AudienceKind.PRIVATE, "CGEN"))
    assert await messages.search_text(elsewhere, "pricing", 10) == []
    [found] = await messages.search_text(in_general, "pricing", 10)
    assert found.record.author == "UPARTNER"
    # The workspace's own people's words are still the workspace's.
    [lunch] = await messages.search_text(elsewhere, "Lunch", 10)
    assert lunch.record.author == "UBEN"


async def test_a_rate_limited_read_waits_out_retry_after_and_finishes(world: SlackWorld) -> None:
    world.api.rate_limit("conversations.replies", retry_after=1)

    await learn(world)
    progress = await learned(world, "CGEN")

    assert progress.done
    assert progress.stored == 4
    assert len(world.api.calls_of("conversations.replies")) == 2  # the 429, then the page


async def test_only_admins_may_ask_and_nothing_is_read_for_others(world: SlackWorld) -> None:
    answer = await learn(world, user="UBEN")

    assert "Only workspace admins" in answer
    assert world.api.calls_of("conversations.history") == []


async def test_a_channel_the_bot_cannot_read_gets_a_clear_answer(world: SlackWorld) -> None:
    world.api.fail("conversations.history", error="not_in_channel")

    answer = await learn(world)

    assert "I can't read #general's history" in answer
    assert "invite me" in answer
    assert await BackfillLedger(world.runtime.store.kv).all() == []


async def test_joining_a_channel_reads_its_history(world: SlackWorld) -> None:
    joined = {"type": "member_joined_channel", "channel": "CGEN", "channel_type": "C"}
    await world.send(joined | {"user": "UBEN"})  # someone else joining reads nothing
    await world.send(joined | {"user": slack_payloads.BOT_USER})

    progress = await learned(world, "CGEN")

    assert progress.stored == 4
    assert len(await conversation(world, "CGEN", FREEZE)) == 3


async def test_messages_already_stored_are_skipped(tmp_path: Path, api: FakeSlackApi) -> None:
    async with (
        FakeOpenAI() as llm,
        slack_bot(tmp_path, llm, api, default_policy=ChannelPolicy.LISTEN) as world,
    ):
        live = said("UBEN", "Lunch is at noon", LUNCH) | {
            "channel": "CGEN",
            "channel_type": "channel",
        }
        await world.send(live)
        await until(lambda: conversation(world, "CGEN", LUNCH), "the live message stored")

        await learn(world)
        progress = await learned(world, "CGEN")

        assert len(await conversation(world, "CGEN", LUNCH)) == 1
        assert (progress.stored, progress.skipped) == (3, 3)


async def test_the_bounds_keep_only_the_newest_messages(tmp_path: Path, api: FakeSlackApi) -> None:
    bounds = HistoryBounds(days=0, messages=4)
    async with (
        FakeOpenAI() as llm,
        slack_bot(
            tmp_path, llm, api, serving=Serving(history=bounds), default_policy=LISTEN
        ) as world,
    ):
        await learn(world)
        progress = await learned(world, "CGEN")

        # Newest first: the bot's message, the join, lunch, the freeze (its replies cut off).
        assert (progress.read, progress.stored) == (4, 2)
        assert [m.content for m in await conversation(world, "CGEN", FREEZE)] == [
            "The deploy freeze starts Friday"
        ]
        assert len(await conversation(world, "CGEN", LUNCH)) == 1
        assert await conversation(world, "CGEN", ANCIENT) == []


class FailingAfter:
    """The engine's intake, failing as a store gone away would after ``count`` messages."""

    def __init__(self, port: IntakePort, count: int) -> None:
        self._port = port
        self._count = count

    async def receive(self, inbound: Inbound) -> ReceiveResult:
        if self._count == 0:
            raise ConnectionError("the store went away")
        self._count -= 1
        return await self._port.receive(inbound)

    async def reject(self, platform: str, raw: JSON, error: str) -> None:
        await self._port.reject(platform, raw, error)


async def test_an_interrupted_read_continues_from_its_last_page_without_duplicates(
    world: SlackWorld, api: FakeSlackApi
) -> None:
    agent = world.runtime.default_agent.id
    config = SlackConfig(
        agent,
        bot_token="xoxb-scenario",
        signing_secret="s",
        api_base_url=api.base_url,
        default_policy=LISTEN,
    )
    source = SlackChannelSource(
        reading_client(config, config.bot_token),
        SlackDirectory(),
        agent,
        TEAM,
        ChannelInfo(AudienceKind.PUBLIC, "#general"),
        "CGEN",
        slack_payloads.BOT_USER,
        page=2,
    )
    target = HistoryTarget("slack", agent, WORKSPACE, "CGEN", "#general")
    ledger = BackfillLedger(world.runtime.store.kv)
    # Page 1 (the bot's message, the join) is saved; the store fails inside page 2.
    crashing = ChannelHistory(
        FailingAfter(world.runtime.engine, 2),
        config.policies,
        config.serving,
        ledger,
        HistoryBounds(),
    )
    with pytest.raises(ConnectionError):
        await crashing.read(target, source)
    stopped = await ledger.get("slack", agent, WORKSPACE, "CGEN")
    assert stopped is not None
    assert (stopped.state, stopped.cursor, stopped.read) == (
        "reading",
        JOIN,
        2,
    )

    calls = len(api.calls_of("conversations.history"))
    resumed = ChannelHistory(
        world.runtime.engine, config.policies, config.serving, ledger, HistoryBounds()
    )
    progress = await resumed.read(target, source)
    await until(lambda: settled(world), "every past message stored")

    assert api.calls_of("conversations.history")[calls].args["latest"] == JOIN
    assert progress.done
    assert progress.read == 6
    assert [m.content for m in await conversation(world, "CGEN", FREEZE)] == [
        "The deploy freeze starts Friday",
        "Noted, I'll move the release",
        "Thanks Ben",
    ]
    assert len(await conversation(world, "CGEN", LUNCH)) == 1


async def test_a_restart_continues_a_read_that_a_stop_interrupted(world: SlackWorld) -> None:
    agent = world.runtime.default_agent.id
    ledger = BackfillLedger(world.runtime.store.kv)
    began = NOW - timedelta(minutes=5)
    interrupted = BackfillProgress(
        "slack", agent, WORKSPACE, "CGEN", began, began, "#general", cursor=LUNCH, read=3
    )
    await ledger.save(interrupted)

    await world.adapter.start()
    progress = await learned(world, "CGEN")

    assert progress.done
    assert progress.read == 6
    assert len(await conversation(world, "CGEN", FREEZE)) == 3
    assert await conversation(world, "CGEN", LUNCH) == []  # read before the stop
    [first] = world.api.calls_of("conversations.history")[1:2]  # after the readability check
    assert first.args["latest"] == LUNCH


async def test_a_channel_the_agent_does_not_serve_is_not_read(
    tmp_path: Path, api: FakeSlackApi
) -> None:
    served = frozenset({"GSECRET"})
    async with (
        FakeOpenAI() as llm,
        slack_bot(
            tmp_path, llm, api, serving=Serving(served_channels=served), default_policy=LISTEN
        ) as world,
    ):
        answer = await learn(world)

        assert "I don't serve #general" in answer
        assert world.api.calls_of("conversations.history") == []
