"""SIGTERM ends ``mnemo run`` within MNEMO_STOP_DEADLINE, with exit code 0 and a few log
lines, whatever it is doing: connecting to a Slack that cannot be reached, reconnecting to a
Slack or Discord that went away, running a turn on a slow model, or running a background job.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from engine.store import open_store
from engine.store.protocol import Store
from engine.store.queues import InboxStatus
from tests.e2e.mnemo_process import MnemoProcess, bot_environment, hand_over, wait_status
from tests.fakes.discord_rest import FakeDiscord
from tests.fakes.discord_world import build_world
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.slack_socket import FakeSocketMode

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
LAUNCHER = ("tests.e2e.fake_platforms_run",)
#: MNEMO_STOP_DEADLINE of every bot here: SIGTERM to exit, in seconds.
DEADLINE = 4.0
#: A stopping bot says what it does in a handful of lines; retry loops would write hundreds.
MAX_LOG_LINES = 30
WAIT = 30.0


@pytest.fixture
async def llm() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as fake:
        yield fake


def environment(tmp_path: Path, llm: FakeOpenAI, **settings: str) -> dict[str, str]:
    return bot_environment(
        OPENAI_API_KEY="test-key",
        OPENAI_BASE_URL=llm.base_url,
        MNEMO_DATA_DIR=str(tmp_path / "data"),
        MNEMO_HTTP_HOST="127.0.0.1",
        MNEMO_HTTP_PORT="0",
        MNEMO_LOG_FORMAT="json",
        MNEMO_STOP_DEADLINE=str(DEADLINE),
        PYTHONPATH=str(REPO),
        **settings,
    )


def slack_settings(api_url: str) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": "xoxb-sigterm",
        "SLACK_APP_TOKEN": "xapp-sigterm",
        "MNEMO_TEST_SLACK_API_URL": api_url,
    }


def new_discord() -> FakeDiscord:
    """A fake Discord with a small world (a guild, people, DMs) for the bot to join."""
    discord = FakeDiscord()
    build_world(discord)
    return discord


def discord_settings(discord: FakeDiscord, gateway_url: str = "") -> dict[str, str]:
    return {
        "DISCORD_TOKEN": discord.token,
        "MNEMO_TEST_DISCORD_API_BASE": discord.api_base,
        "MNEMO_TEST_DISCORD_GATEWAY_URL": gateway_url or discord.gateway_url,
    }


def closed_port() -> int:
    """A local port nothing listens on: connecting to it is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def logged(bot: MnemoProcess, text: str) -> None:
    """Wait until a log line contains ``text``."""
    async with asyncio.timeout(WAIT):
        while not any(text in line for line in bot.lines):
            assert bot.running, "\n".join(bot.lines)
            await asyncio.sleep(0.05)


async def sigterm(bot: MnemoProcess) -> tuple[int, float]:
    """SIGTERM; the exit code and the seconds it took to exit."""
    loop = asyncio.get_running_loop()
    sent = loop.time()
    bot.terminate()
    async with asyncio.timeout(DEADLINE + WAIT):
        code = await bot.exited()
    took = loop.time() - sent
    print(f"SIGTERM to exit: {took:.2f} s (deadline {DEADLINE:.0f} s), exit code {code}")
    return code, took


def assert_stopped_quietly(bot: MnemoProcess, code: int, took: float) -> None:
    lines = "\n".join(bot.lines)
    assert code == 0, lines
    assert took <= DEADLINE, f"{took:.1f} s\n{lines}"
    assert len(bot.lines) <= MAX_LOG_LINES, lines
    assert not [r for r in bot.records if "exception" in r], lines
    assert bot.records[-1]["message"].startswith("stopped")


def assert_start_ended_with_one_line(bot: MnemoProcess, code: int, reason: str, fix: str) -> None:
    """The process exited 2 by itself, its last line the reason and the setting to fix."""
    lines = "\n".join(bot.lines)
    assert code == 2, lines
    assert bot.lines[-1].startswith(f"mnemo: A bot could not connect ({reason}"), lines
    assert fix in bot.lines[-1]
    assert len(bot.lines) <= MAX_LOG_LINES, lines
    assert not [line for line in bot.lines if '"exception"' in line], lines


def count(bot: MnemoProcess, text: str) -> int:
    return sum(text in line for line in bot.lines)


@pytest.mark.parametrize("outage", ["api unreachable", "websocket refused"])
async def test_sigterm_while_socket_mode_cannot_connect(
    tmp_path: Path, llm: FakeOpenAI, outage: str
) -> None:
    api = FakeSlackApi(socket_url=f"ws://127.0.0.1:{closed_port()}/link/")
    await api.start()
    try:
        url = (
            api.base_url
            if outage == "websocket refused"
            else f"http://127.0.0.1:{closed_port()}/api/"
        )
        env = environment(tmp_path, llm, **slack_settings(url))
        async with MnemoProcess(env, tmp_path, "connecting", module=LAUNCHER) as bot:
            await logged(bot, "Slack Socket Mode cannot connect")
            await asyncio.sleep(3.0)  # several attempts, backing off
            assert (await bot.get("/readyz"))[0] == 503
            code, took = await sigterm(bot)
    finally:
        await api.stop()
    assert_stopped_quietly(bot, code, took)
    assert count(bot, "Slack Socket Mode cannot connect") == 1
    assert count(bot, "`token` will be unused") == 0


async def test_a_refused_slack_token_ends_the_start_with_one_line(
    tmp_path: Path, llm: FakeOpenAI
) -> None:
    api = FakeSlackApi()
    await api.start()
    api.fail("apps.connections.open", error="invalid_auth", times=100)
    try:
        env = environment(tmp_path, llm, **slack_settings(api.base_url))
        async with MnemoProcess(env, tmp_path, "refused", module=LAUNCHER) as bot:
            async with asyncio.timeout(WAIT):
                code = await bot.exited()
    finally:
        await api.stop()
    assert_start_ended_with_one_line(bot, code, "Slack refused the app token", "SLACK_APP_TOKEN")
    assert len(api.calls_of("apps.connections.open")) == 1


async def test_sigterm_while_socket_mode_is_reconnecting(tmp_path: Path, llm: FakeOpenAI) -> None:
    socket_mode = FakeSocketMode()
    await socket_mode.start()
    api = FakeSlackApi(socket_url=socket_mode.url)
    await api.start()
    try:
        env = environment(tmp_path, llm, **slack_settings(api.base_url))
        async with MnemoProcess(env, tmp_path, "reconnecting", module=LAUNCHER) as bot:
            await logged(bot, "Slack Socket Mode connected")
            assert (await bot.get("/readyz"))[0] == 200
            await socket_mode.stop()  # the connection drops and Slack's websocket stays away
            await logged(bot, "Slack Socket Mode connection lost")
            await asyncio.sleep(3.0)
            assert (await bot.get("/readyz"))[0] == 503
            code, took = await sigterm(bot)
    finally:
        await api.stop()
    assert_stopped_quietly(bot, code, took)
    assert count(bot, "Slack Socket Mode connection lost") == 1


async def test_sigterm_while_the_discord_gateway_is_reconnecting(
    tmp_path: Path, llm: FakeOpenAI
) -> None:
    discord = new_discord()
    async with discord.running():
        env = environment(tmp_path, llm, **discord_settings(discord))
        bot = MnemoProcess(env, tmp_path, "discord", module=LAUNCHER)
        await bot.__aenter__()
        await logged(bot, "connected for agent")
    try:  # Discord went away: the gateway connection dropped and cannot come back
        await logged(bot, "discord gateway unreachable")
        await asyncio.sleep(3.0)
        code, took = await sigterm(bot)
    finally:
        await bot.__aexit__(None, None, None)
    assert_stopped_quietly(bot, code, took)
    assert count(bot, "discord gateway unreachable") == 1


@pytest.fixture
async def store(tmp_path: Path, llm: FakeOpenAI) -> AsyncIterator[Store]:
    """The bot's embedded store, opened beside it; the model unblocked at the end."""
    opened = await open_store(mongodb_uri=None, data_dir=tmp_path / "data")
    try:
        yield opened
    finally:
        llm.unblock()
        await opened.close()


async def say(store: Store, text: str, *, respond: bool = True) -> str:
    """A message for the default agent, handed over as another replica's adapter would."""
    agent = await store.agents.by_name("mnemo")
    assert agent is not None
    return await hand_over(store, agent.id, text, channel="C1", respond=respond)


async def test_sigterm_mid_turn_on_a_slow_model(
    tmp_path: Path, llm: FakeOpenAI, store: Store
) -> None:
    llm.block()
    async with MnemoProcess(environment(tmp_path, llm), tmp_path, "mid-turn") as bot:
        inbox_id = await say(store, "take your time")
        async with asyncio.timeout(WAIT):
            await llm.wait_for_in_flight(1)
        code, took = await sigterm(bot)
    assert_stopped_quietly(bot, code, took)
    item = await store.inbox.get(inbox_id)
    assert item is not None
    assert item.status is InboxStatus.PENDING  # released whole, answered after a restart


async def test_sigterm_mid_job_on_a_slow_model(
    tmp_path: Path, llm: FakeOpenAI, store: Store
) -> None:
    env = environment(
        tmp_path,
        llm,
        MNEMO_JOBS_ENABLED="true",
        MNEMO_JOBS_CONSOLIDATE_EVERY_S="1",
        MNEMO_JOBS_IDLE_MINUTES="0",
    )
    llm.block()
    async with MnemoProcess(env, tmp_path, "mid-job") as bot:
        # Listened to, not answered: the only model call is the consolidation job's.
        inbox_id = await say(store, "remember that I like tea", respond=False)
        async with asyncio.timeout(WAIT):
            await wait_status(store, inbox_id, InboxStatus.DONE)
        async with asyncio.timeout(WAIT):
            await llm.wait_for_in_flight(1)
        code, took = await sigterm(bot)
    assert_stopped_quietly(bot, code, took)


async def test_sigterm_while_the_discord_gateway_is_connecting(
    tmp_path: Path, llm: FakeOpenAI
) -> None:
    discord = new_discord()
    discord.gateway.answer_identifies.clear()  # the bot waits for READY
    async with discord.running():
        env = environment(tmp_path, llm, **discord_settings(discord))
        async with MnemoProcess(env, tmp_path, "discord-connecting", module=LAUNCHER) as bot:
            await logged(bot, "logging in")
            await asyncio.sleep(2.0)  # commands synced, IDENTIFY sent, no READY coming
            assert (await bot.get("/readyz"))[0] == 503
            code, took = await sigterm(bot)
        discord.gateway.answer_identifies.set()
    assert_stopped_quietly(bot, code, took)


async def test_an_unreachable_discord_gateway_ends_the_start_with_one_line(
    tmp_path: Path, llm: FakeOpenAI
) -> None:
    discord = new_discord()
    async with discord.running():
        env = environment(
            tmp_path, llm, **discord_settings(discord, f"ws://127.0.0.1:{closed_port()}/gateway")
        )
        async with MnemoProcess(env, tmp_path, "discord-unreachable", module=LAUNCHER) as bot:
            async with asyncio.timeout(WAIT):
                code = await bot.exited()
    assert_start_ended_with_one_line(bot, code, "Cannot connect to host", "DISCORD_TOKEN")
