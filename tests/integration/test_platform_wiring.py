"""The bots ``mnemo run`` builds from settings and the agents file, against the fake Slack and
Discord servers: each agent with its own tokens gets its own bot, and hears the other agents'
bot users as agents."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.platforms import Endpoints, Platforms, build_platforms
from bot.settings import SettingsError
from bot.wiring import Runtime, running
from engine.records import ConversationKey, Message, Role
from tests.fakes import discord_payloads as p
from tests.fakes.discord_rest import FakeDiscord
from tests.fakes.discord_world import build_world, eventually
from tests.fakes.openai_server import FakeOpenAI, tool_call
from tests.fakes.slack_api import FakeSlackApi, signed_headers
from tests.fakes.slack_socket import FakeSocketMode
from tests.harness import settings_for

TEAM = "T0001"
SECRET = "wiring-signing-secret"
#: Beta's credentials, as the environment holds them; the agents file only names the variables.
BETA_ENV = {
    "BETA_SLACK_BOT_TOKEN": "xoxb-beta",
    "BETA_SLACK_APP_TOKEN": "xapp-beta",
    "BETA_DISCORD_TOKEN": "beta-discord-token",
}
#: Long enough for a turn on a busy machine; each wait ends as soon as its condition holds.
TURN_S = 30.0


SLACK_AGENTS = """\
agents:
  - name: alpha
    system_prompt: You are alpha.
    platforms:
      slack: {bot_user: UALPHA}
  - name: beta
    system_prompt: You are beta.
    platforms:
      slack:
        bot_user: UBETA
        bot_token_env: BETA_SLACK_BOT_TOKEN
        app_token_env: BETA_SLACK_APP_TOKEN
"""

DISCORD_AGENTS = """\
agents:
  - name: alpha
    system_prompt: You are alpha.
    platforms:
      discord: {{bot_user: "{alpha}"}}
  - name: beta
    system_prompt: You are beta.
    platforms:
      discord: {{bot_user: "{beta}", token_env: BETA_DISCORD_TOKEN, channels: ["{general}"]}}
"""


def agents_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "agents.yml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
async def llm() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as server:
        yield server


@asynccontextmanager
async def started(platforms: Platforms) -> AsyncIterator[Platforms]:
    await platforms.start()
    try:
        yield platforms
    finally:
        await platforms.stop()


async def recalled(runtime: Runtime, agent: str, key: tuple[str, str, str]) -> list[Message]:
    agent_record = await runtime.store.agents.by_name(agent)
    assert agent_record is not None
    conversation = ConversationKey(agent_record.id, *key)
    return await runtime.store.messages.recent(conversation, 0, 50)


async def agent_id(runtime: Runtime, name: str) -> str:
    agent = await runtime.store.agents.by_name(name)
    assert agent is not None
    return agent.id


# -- Slack ------------------------------------------------------------------------------------


@pytest.fixture
async def slack_api() -> AsyncIterator[FakeSlackApi]:
    api = FakeSlackApi(
        team_id=TEAM,
        bot_user_id="UALPHA",
        bot_id="BALPHA",
        bots={"xoxb-beta": ("UBETA", "BBETA")},
        users={"UANN": {"name": "ann", "profile": {"display_name": "Ann"}}},
        channels={"CGEN": {"name": "general", "is_private": False}},
        assistant_threads=False,
    )
    await api.start()
    yield api
    await api.stop()


@pytest.fixture
async def socket(slack_api: FakeSlackApi) -> AsyncIterator[FakeSocketMode]:
    fake = FakeSocketMode()
    await fake.start()
    slack_api.socket_url = fake.url
    yield fake
    await fake.stop()


def event_body(event: dict[str, Any], event_id: str) -> dict[str, Any]:
    return {"type": "event_callback", "team_id": TEAM, "event_id": event_id, "event": event}


async def test_slack_agent_with_own_tokens_answers_the_default_agents_mention(
    tmp_path: Path, llm: FakeOpenAI, slack_api: FakeSlackApi, socket: FakeSocketMode
) -> None:
    settings = settings_for(
        tmp_path,
        llm,
        MNEMO_AGENT="alpha",
        MNEMO_AGENTS_FILE=agents_file(tmp_path, SLACK_AGENTS),
        SLACK_BOT_TOKEN="xoxb-alpha",
        SLACK_SIGNING_SECRET=SECRET,
    )
    endpoints = Endpoints(slack_api_url=slack_api.base_url)
    async with running(settings) as runtime:
        platforms = build_platforms(
            settings, runtime.platform_services(), environ=BETA_ENV, endpoints=endpoints
        )
        assert platforms.slack is not None
        assert len(platforms.agent_bots) == 1
        app = web.Application()
        platforms.slack.mount(app)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        events_url = f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"
        try:
            async with started(platforms), aiohttp.ClientSession() as http:
                await socket.wait_connected()
                llm.push(
                    tool_call("send_message", message="<@UBETA> what do you think?"),
                    tool_call("send_message", message="Beta agrees."),
                )
                # Ann asks alpha, whose app receives HTTP events.
                mention = {
                    "type": "app_mention",
                    "channel": "CGEN",
                    "user": "UANN",
                    "text": "<@UALPHA> ask beta",
                    "ts": "100.000100",
                }
                raw = json.dumps(event_body(mention, "Ev1"))
                headers = {"Content-Type": "application/json", **signed_headers(SECRET, raw)}
                async with http.post(events_url, data=raw, headers=headers) as response:
                    assert response.status == 200
                await slack_api.wait_until(lambda: len(slack_api.posted("CGEN")) >= 1, TURN_S)
                [asked] = slack_api.posted("CGEN")
                assert asked["user"] == "UALPHA"

                # Slack shows alpha's post to beta's app, over beta's Socket Mode connection.
                envelope = await socket.send_event(
                    event_body({**asked, "channel_type": "channel"}, "Ev2")
                )
                await socket.wait_acked(envelope)
                await slack_api.wait_until(lambda: len(slack_api.posted("CGEN")) >= 2, TURN_S)
        finally:
            await runner.cleanup()

        answer = slack_api.posted("CGEN")[1]
        assert (answer["user"], answer["text"]) == ("UBETA", "Beta agrees.")
        assert answer["thread_ts"] == "100.000100"
        tokens = [call.token for call in slack_api.calls_of("chat.postMessage")]
        assert tokens == ["xoxb-alpha", "xoxb-beta"]
        heard = await recalled(runtime, "beta", ("slack:T0001", "CGEN", "100.000100"))
        from_alpha = [m for m in heard if m.role is Role.USER]
        assert [(m.author, m.content) for m in from_alpha] == [
            (await agent_id(runtime, "alpha"), "what do you think?")
        ]


@pytest.mark.parametrize(
    ("setting", "environ", "error"),
    [
        # An agent's token variable is not set.
        ({"MNEMO_AGENT": "alpha"}, {}, "BETA_SLACK_BOT_TOKEN"),
        # The default agent has its own tokens in the file and SLACK_* are set too.
        (
            {
                "MNEMO_AGENT": "beta",
                "SLACK_BOT_TOKEN": "xoxb-default",
                "SLACK_SIGNING_SECRET": SECRET,
            },
            BETA_ENV,
            r"beta has its own slack tokens .* keep one",
        ),
    ],
)
async def test_agent_tokens_that_cannot_be_used_are_a_settings_error(
    tmp_path: Path,
    llm: FakeOpenAI,
    setting: dict[str, str],
    environ: dict[str, str],
    error: str,
) -> None:
    agents = agents_file(tmp_path, SLACK_AGENTS)
    settings = settings_for(tmp_path, llm, MNEMO_AGENTS_FILE=agents, **setting)
    async with running(settings) as runtime:
        with pytest.raises(SettingsError, match=error):
            build_platforms(settings, runtime.platform_services(), environ=environ)


# -- Discord ----------------------------------------------------------------------------------


async def test_discord_agent_with_own_token_answers_another_agents_bot_in_its_channel(
    tmp_path: Path, llm: FakeOpenAI
) -> None:
    fake = FakeDiscord(token=BETA_ENV["BETA_DISCORD_TOKEN"])
    world = build_world(fake)
    alpha_bot, beta_bot = world.other_bot, fake.bot
    declared = DISCORD_AGENTS.format(
        alpha=alpha_bot["id"], beta=beta_bot["id"], general=world.general["id"]
    )
    # Whole replies: the platforms stop as soon as the answer is there.
    settings = settings_for(
        tmp_path,
        llm,
        MNEMO_AGENT="alpha",
        MNEMO_AGENTS_FILE=agents_file(tmp_path, declared),
        MNEMO_STREAM_REPLIES=False,
    )
    async with fake.running(), running(settings) as runtime:
        endpoints = Endpoints(discord_api_base=fake.api_base, discord_gateway_url=fake.gateway_url)
        platforms = build_platforms(
            settings, runtime.platform_services(), environ=BETA_ENV, endpoints=endpoints
        )
        assert platforms.discord is None
        assert len(platforms.agent_bots) == 1
        async with started(platforms):
            llm.push(tool_call("send_message", message="Beta here."))
            for channel in (world.staff, world.general):  # beta serves #general only
                await fake.gateway.dispatch(
                    "MESSAGE_CREATE",
                    p.message(
                        channel["id"],
                        alpha_bot,
                        f"{p.mention(beta_bot)} what do you think?",
                        guild_id=world.guild_id,
                        mentions=[beta_bot],
                    ),
                )
            await eventually(lambda: bool(fake.posted(world.general["id"])), "beta's answer")

        [answer] = fake.posted(world.general["id"])
        assert answer.content == "Beta here."
        assert fake.posted(world.staff["id"]) == []
        heard = await recalled(
            runtime, "beta", (f"discord:{world.guild_id}", world.general["id"], "")
        )
        assert [(m.author, m.content) for m in heard if m.role is Role.USER] == [
            (await agent_id(runtime, "alpha"), "what do you think?")
        ]
