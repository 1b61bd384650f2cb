"""A fault-injection soak: many one-message conversations through the Slack and Discord fakes
into a real ``mnemo run`` process, while the fakes, the model and the store fail on purpose.

Each conversation is a direct message from its own person (half on Slack, over Socket Mode;
half on Discord, over the gateway), so every message has one conversation and one channel,
and whatever the bot posts in that channel answers it. While the messages go out, a seeded
schedule injects faults: the model answers 429 with Retry-After, 5xx or too late for the
client's timeout; Slack answers 429 and 5xx and once answers a post only after the client gave
up; Discord answers 429 and 5xx; both platforms drop the bot's websocket; the embedded store is
locked by another writer for a moment (SQLite busy); and the bot process is SIGKILLed once and
started again. Some messages are doomed (the model fails every call about them), so they end
in a failure notice.

Slack redelivers an envelope the bot did not acknowledge (as Slack does); Discord replays what
a resumed session missed, but not what a killed process never read (as Discord does). At the
end, every message the store accepted must have exactly one post in its channel: the reply or
the failure notice.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import sqlite3
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from engine.store import SQLITE_FILE_NAME
from tests.e2e.mnemo_process import MnemoProcess, bot_environment
from tests.fakes import discord_payloads as p
from tests.fakes import slack_payloads
from tests.fakes.discord_rest import FakeDiscord
from tests.fakes.openai_server import (
    FakeOpenAI,
    Step,
    delay,
    echo_responder,
    error,
    last_user_text,
)
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.slack_socket import FakeSocketMode

REPO = Path(__file__).resolve().parents[2]
LAUNCHER = ("tests.e2e.fake_platforms_run",)
#: Seconds the bot's model client waits for one answer; a "late" model answer takes longer.
MODEL_REQUEST_TIMEOUT = 1.0
#: A message whose text holds this is doomed: every model call about it fails.
DOOMED = "doomed"
#: Seconds Slack waits for an envelope's acknowledgement before sending it again.
ACK_WAIT = 5.0
#: Seconds a Slack answer is held when it comes too late (the bot's client gives up at 15).
SLACK_LATE_S = 16.0
#: Seconds another writer holds the embedded store's write lock.
STORE_LOCK_S = 1.5
#: Seconds the bot gets, after everything settled, to post anything twice.
QUIET_S = 2.0


@dataclass(frozen=True, slots=True)
class SoakPlan:
    conversations: int = 40
    seed: int = 1
    #: Seconds over which the messages go out (faults are injected meanwhile).
    send_seconds: float = 10.0
    #: Share of doomed messages.
    doomed_share: float = 0.05
    #: Share of the model's answers that fail (429, 5xx, too late), each a third.
    model_fault_share: float = 0.15
    #: Seconds between injected platform and store faults.
    fault_interval: float = 1.0
    #: After this share of the messages went out, the bot is SIGKILLed and restarted.
    kill_after: float = 0.4
    #: Seconds to wait, after the last message went out, for every one to be answered.
    settle_timeout: float = 60.0


@dataclass(frozen=True, slots=True)
class SoakCounts:
    sent: int
    accepted: int
    replied: int
    failure_notices: int
    lost: int
    duplicated: int
    #: Posts in a channel whose message the store never accepted.
    stray: int
    #: Requests to post a message (retries and redeliveries included), for ``posts`` posts.
    post_requests: int
    posts: int
    faults: dict[str, int]
    seconds: float

    def report(self) -> str:
        faults = ", ".join(f"{name} {n}" for name, n in sorted(self.faults.items()))
        return (
            f"sent {self.sent}, accepted {self.accepted}, replied {self.replied}, "
            f"failure notices {self.failure_notices}, lost {self.lost}, "
            f"duplicated {self.duplicated}, stray {self.stray} ({self.seconds:.0f} s)\n"
            f"{self.post_requests} requests to post made {self.posts} posts\n"
            f"faults injected: {faults}"
        )


@dataclass(frozen=True, slots=True)
class _Message:
    platform: str
    channel: str
    text: str
    #: What identifies the message's reply (the echo of its text).
    token: str
    #: The platform's id of the message (the same on every redelivery).
    ref: str


class _ChaoticModel:
    """The fake model's responder: echoes, except for doomed messages (always 5xx) and a
    seeded share of answers that fail."""

    def __init__(self, rng: random.Random, fault_share: float, faults: Counter[str]) -> None:
        self._rng = rng
        self._share = fault_share
        self._faults = faults

    def __call__(self, body: dict[str, object]) -> Step:
        if DOOMED in last_user_text(body):
            self._faults["model 500 (doomed message)"] += 1
            return error(500, "doomed")
        roll = self._rng.random() / self._share if self._share else 1.0
        if roll < 1 / 3:
            self._faults["model 429 Retry-After"] += 1
            return error(429, "slow down", retry_after=1)
        if roll < 2 / 3:
            self._faults["model 503"] += 1
            return error(503, "overloaded")
        if roll < 1:
            self._faults["model timeout"] += 1
            return delay(MODEL_REQUEST_TIMEOUT * 3)
        return echo_responder(body)


@dataclass
class _World:
    plan: SoakPlan
    workdir: Path
    llm: FakeOpenAI
    slack: FakeSlackApi
    socket_mode: FakeSocketMode
    discord: FakeDiscord
    rng: random.Random
    faults: Counter[str]
    messages: list[_Message] = field(default_factory=list)
    bot: MnemoProcess | None = None
    starts: int = 0

    @property
    def database(self) -> Path:
        return self.workdir / "data" / SQLITE_FILE_NAME

    def environment(self) -> dict[str, str]:
        return bot_environment(
            OPENAI_API_KEY="soak-key",
            OPENAI_BASE_URL=self.llm.base_url,
            MNEMO_LLM_REQUEST_TIMEOUT=str(MODEL_REQUEST_TIMEOUT),
            MNEMO_LLM_TIMEOUT="6",
            MNEMO_DATA_DIR=str(self.workdir / "data"),
            MNEMO_HTTP_HOST="127.0.0.1",
            MNEMO_HTTP_PORT="0",
            MNEMO_LOG_FORMAT="json",
            MNEMO_STOP_DEADLINE="5",
            SLACK_BOT_TOKEN="xoxb-soak",
            SLACK_APP_TOKEN="xapp-soak",
            MNEMO_TEST_SLACK_API_URL=self.slack.base_url,
            DISCORD_TOKEN=self.discord.token,
            MNEMO_TEST_DISCORD_API_BASE=self.discord.api_base,
            MNEMO_TEST_DISCORD_GATEWAY_URL=self.discord.gateway_url,
            PYTHONPATH=str(REPO),
        )

    async def start_bot(self) -> None:
        self.starts += 1
        bot = MnemoProcess(self.environment(), self.workdir, f"bot-{self.starts}", module=LAUNCHER)
        await bot.__aenter__()
        self.bot = bot

    async def kill_bot(self) -> None:
        """SIGKILL: no cleanup of any kind runs in the bot (what leaving its context does)."""
        if self.bot is not None:
            await self.bot.__aexit__(None, None, None)
            self.bot = None


def build_messages(world: _World) -> None:
    """One direct message per conversation, alternating platforms, some of them doomed."""
    plan = world.plan
    for i in range(plan.conversations):
        token = f"m{i}x{world.rng.randrange(10**6)}"
        doomed = world.rng.random() < plan.doomed_share
        text = f"{token} {'doomed ' if doomed else ''}what do you make of {i}?"
        if i % 2 == 0:
            channel, ref = f"D{i:05d}", f"{1_700_000_000 + i}.000100"
            world.slack.users[f"U{i:05d}"] = {"name": f"user{i}"}
            world.messages.append(_Message("slack", channel, text, token, ref))
            continue
        dm = p.dm_channel(p.snowflake(), p.user(p.snowflake(), f"user{i}"))
        world.discord.add_dm(dm)
        world.messages.append(_Message("discord", str(dm["id"]), text, token, p.snowflake()))


async def _send_slack(world: _World, index: int, message: _Message, until: float) -> bool:
    """Send until acknowledged, as Slack redelivers (True), or until ``until`` (False)."""
    event = slack_payloads.message(
        message.text,
        channel=message.channel,
        channel_type="im",
        user=f"U{index:05d}",
        ts=message.ref,
        event_ts=message.ref,
        client_msg_id=f"msg-{index}",
    )
    body = slack_payloads.callback(event, event_id=f"EvSoak{index}")
    attempt = 0
    while time.monotonic() < until:
        if not world.socket_mode.connected:
            await asyncio.sleep(0.1)
            continue
        try:
            envelope = await world.socket_mode.send_event(body, retry_attempt=attempt)
            await world.socket_mode.wait_acked(envelope, within=ACK_WAIT)
            return True
        except (TimeoutError, ConnectionError, RuntimeError, IndexError):
            attempt += 1
    return False


async def _send_discord(world: _World, message: _Message, until: float) -> bool:
    """Dispatch once the bot's gateway session is live (True), or give up at ``until``."""
    gateway = world.discord.gateway
    while time.monotonic() < until:
        session = gateway.sessions[-1] if gateway.sessions else None
        if session is not None and session.socket is not None and not session.socket.closed:
            author = world.discord.channels[message.channel]["recipients"][0]
            event = p.message(message.channel, author, message.text, message_id=message.ref)
            with contextlib.suppress(ConnectionError, RuntimeError):
                # Sent again if the socket closed meanwhile: the same id, stored once.
                await gateway.dispatch("MESSAGE_CREATE", event)
                return True
        await asyncio.sleep(0.1)
    return False


def _fault_schedule(world: _World) -> list[tuple[str, Callable[[], Awaitable[None]]]]:
    """The platform and store faults, one of which is injected every ``fault_interval``."""
    slack, discord = world.slack, world.discord

    def discord_route() -> str:
        message = world.rng.choice([m for m in world.messages if m.platform == "discord"])
        return f"POST /channels/{message.channel}/messages"

    async def slack_429() -> None:
        slack.rate_limit("chat.postMessage", retry_after=1, times=2)

    async def slack_5xx() -> None:
        slack.fail("chat.postMessage", status=500, error="internal_error", times=2)

    async def discord_429() -> None:
        discord.rate_limit(discord_route(), times=1, retry_after=1.0)

    async def discord_5xx() -> None:
        discord.fail(discord_route(), times=2, status=502)

    async def socket_drop() -> None:
        await world.socket_mode.drop()

    async def gateway_drop() -> None:
        await discord.gateway.disconnect()

    async def store_lock() -> None:
        await asyncio.to_thread(_hold_write_lock, world.database, STORE_LOCK_S)

    return [
        ("slack 429 Retry-After", slack_429),
        ("slack 5xx", slack_5xx),
        ("discord 429 Retry-After", discord_429),
        ("discord 5xx", discord_5xx),
        ("slack websocket dropped", socket_drop),
        ("discord websocket dropped", gateway_drop),
        ("store locked (SQLite busy)", store_lock),
    ]


def _hold_write_lock(database: Path, seconds: float) -> None:
    """Another writer holds the embedded store's write lock for ``seconds``."""
    connection = sqlite3.connect(database, timeout=5.0, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        time.sleep(seconds)
        connection.execute("ROLLBACK")
    finally:
        connection.close()


async def _inject_faults(world: _World, stop: asyncio.Event) -> None:
    schedule = _fault_schedule(world)
    world.rng.shuffle(schedule)  # then round-robin: every kind comes up, in a seeded order
    # One Slack post is answered after the bot's client gave up: the post was made.
    world.slack.hang("chat.postMessage", SLACK_LATE_S)
    world.faults["slack answer after the client's timeout"] += 1
    for turn in itertools.count():
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(world.plan.fault_interval):
                await stop.wait()
                return
        name, inject = schedule[turn % len(schedule)]
        with contextlib.suppress(OSError, sqlite3.Error):
            await inject()
            world.faults[name] += 1


async def _send_all(world: _World) -> int:
    """Send every message over ``send_seconds``; SIGKILL and restart the bot on the way."""
    plan = world.plan
    gap = plan.send_seconds / max(len(world.messages), 1)
    kill_at = int(len(world.messages) * plan.kill_after)
    sends: list[asyncio.Task[bool]] = []
    for index, message in enumerate(world.messages):
        if index == kill_at:
            await world.kill_bot()
            world.faults["bot process SIGKILLed"] += 1
            await world.start_bot()
        until = time.monotonic() + plan.settle_timeout
        if message.platform == "slack":
            send = _send_slack(world, index, message, until)
        else:
            send = _send_discord(world, message, until)
        sends.append(asyncio.create_task(send))
        await asyncio.sleep(gap)
    return sum(await asyncio.gather(*sends))


def _accepted_channels(database: Path) -> set[tuple[str, str]]:
    """(platform, channel) of every message the store accepted (read from its inbox)."""
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=15.0)
    try:
        rows = connection.execute("SELECT platform, channel FROM inbox WHERE kind = 'message'")
        return {(str(platform), str(channel)) for platform, channel in rows}
    finally:
        connection.close()


def _posts(world: _World, message: _Message) -> list[str]:
    if message.platform == "slack":
        return [str(m.get("text", "")) for m in world.slack.posted(message.channel)]
    return [m.content for m in world.discord.posted(message.channel)]


async def _settle(world: _World) -> None:
    """Wait until every accepted message has a post (or the settle timeout passes)."""
    async with asyncio.timeout(world.plan.settle_timeout):
        while True:
            accepted = await asyncio.to_thread(_accepted_channels, world.database)
            waiting = [
                m
                for m in world.messages
                if (m.platform, m.channel) in accepted and not _posts(world, m)
            ]
            if not waiting:
                return
            await asyncio.sleep(0.5)


def _count(world: _World, sent: int, seconds: float) -> SoakCounts:
    accepted = _accepted_channels(world.database)
    replied = notices = lost = duplicated = stray = 0
    for message in world.messages:
        posts = _posts(world, message)
        if (message.platform, message.channel) not in accepted:
            stray += len(posts)
            continue
        if not posts:
            lost += 1
            continue
        duplicated += len(posts) - 1
        if message.token in posts[0]:
            replied += 1
        else:
            notices += 1
    return SoakCounts(
        sent=sent,
        accepted=sum((m.platform, m.channel) in accepted for m in world.messages),
        replied=replied,
        failure_notices=notices,
        lost=lost,
        duplicated=duplicated,
        stray=stray,
        post_requests=len(world.slack.calls_of("chat.postMessage"))
        + sum(n for route, n in world.discord.requests.items() if route.endswith("/messages")),
        posts=len(world.slack.posted()) + len(world.discord.all_posted()),
        faults=dict(world.faults),
        seconds=seconds,
    )


@contextlib.asynccontextmanager
async def _fakes(plan: SoakPlan, workdir: Path) -> AsyncIterator[_World]:
    rng = random.Random(plan.seed)
    faults: Counter[str] = Counter()
    model = _ChaoticModel(random.Random(rng.random()), plan.model_fault_share, faults)
    socket_mode = FakeSocketMode()
    await socket_mode.start()
    slack = FakeSlackApi(socket_url=socket_mode.url)
    await slack.start()
    discord = FakeDiscord()
    try:
        async with FakeOpenAI(responder=model) as llm, discord.running():
            yield _World(plan, workdir, llm, slack, socket_mode, discord, rng, faults)
    finally:
        await slack.stop()
        await socket_mode.stop()


async def run_soak(plan: SoakPlan, workdir: Path) -> SoakCounts:
    """Run the soak in ``workdir`` (the bot's data and logs land there); the counts."""
    started = time.monotonic()
    async with _fakes(plan, workdir) as world:
        build_messages(world)
        await world.start_bot()
        try:
            stop_faults = asyncio.Event()
            faults = asyncio.create_task(_inject_faults(world, stop_faults))
            try:
                sent = await _send_all(world)
            finally:
                stop_faults.set()
                await faults
            with contextlib.suppress(TimeoutError):
                await _settle(world)
            await asyncio.sleep(QUIET_S)
            if world.bot is not None:
                world.bot.terminate()
                async with asyncio.timeout(30):
                    await world.bot.exited()
        finally:
            await world.kill_bot()
        return _count(world, sent, time.monotonic() - started)
