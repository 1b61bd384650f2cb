"""Where files shared in chat are learned comes from the agents file (``learn_files``) and the
size cap from ``MNEMO_SHARED_FILE_MAX_MB``, through the bots ``mnemo run`` builds."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from adapters.shared_files import FileLearning
from bot.platforms import Endpoints, build_platforms
from bot.settings import Settings
from bot.wiring import running
from tests.fakes import slack_payloads
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack_api import FakeSlackApi, signed_headers
from tests.harness import settings_for

SECRET = "files-signing-secret"
TOKEN = "xoxb-files"
AGENTS = """\
agents:
  - name: alpha
    system_prompt: You are alpha.
    platforms:
      slack: {bot_user: UBOT, learn_files: [dm, GSECRET]}
"""


def test_learn_files_lists_channels_and_dm() -> None:
    learning = FileLearning.of(("dm", "GSECRET"), 1024)
    assert (learning.channels, learning.dms, learning.max_bytes) == (
        frozenset({"GSECRET"}),
        True,
        1024,
    )
    assert not FileLearning().enabled


@asynccontextmanager
async def slack_events(settings: Settings, api: FakeSlackApi) -> AsyncIterator[str]:
    """``mnemo run``'s Slack bot built from ``settings``; the URL its events are posted to."""
    async with running(settings) as runtime:
        platforms = build_platforms(
            settings,
            runtime.platform_services(),
            environ={},
            endpoints=Endpoints(slack_api_url=api.base_url),
        )
        assert platforms.slack is not None
        app = web.Application()
        platforms.slack.mount(app)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        try:
            yield f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"
        finally:
            await platforms.stop()
            await runner.cleanup()


async def post(url: str, event: dict[str, Any]) -> None:
    body = json.dumps(slack_payloads.callback(event, event_id=f"Ev{event['ts']}"))
    headers = {"Content-Type": "application/json", **signed_headers(SECRET, body)}
    async with aiohttp.ClientSession() as http, http.post(url, data=body, headers=headers) as r:
        assert r.status == 200


async def test_the_agents_file_turns_learning_on_for_dms_under_the_size_cap(
    tmp_path: Path,
) -> None:
    agents = tmp_path / "agents.yml"
    agents.write_text(AGENTS, encoding="utf-8")
    api = FakeSlackApi(users=slack_payloads.USERS, channels=slack_payloads.CHANNELS)
    await api.start()
    try:
        async with FakeOpenAI() as llm:
            settings = settings_for(
                tmp_path,
                llm,
                MNEMO_AGENT="alpha",
                MNEMO_AGENTS_FILE=agents,
                MNEMO_SHARED_FILE_MAX_MB=0.001,
                SLACK_BOT_TOKEN=TOKEN,
                SLACK_SIGNING_SECRET=SECRET,
            )
            async with slack_events(settings, api) as url:
                for number, data in enumerate((b"# Notes\n\nShort.\n", b"x" * 2048), start=1):
                    file = api.host_file(f"notes{number}.md", data, token=TOKEN)
                    dm = slack_payloads.message(
                        "", channel="DUANN", channel_type="im", ts=f"170000000{number}.000100"
                    )
                    await post(url, dm | {"subtype": "file_share", "files": [file]})
                await api.wait_until(lambda: len(said(api)[0]) >= 2, within=30)
                # Two messages close together may be answered by one turn.
                await api.wait_until(lambda: len(said(api)[1]) >= 1, within=30)
    finally:
        await api.stop()
    assert sorted(said(api)[0]) == [
        "I couldn't learn notes2.md: it is 2 KiB, over the 1 KiB limit for shared files.",
        "Learned notes1.md: 1 section (I'll use it only in our DMs).",
    ]


def said(api: FakeSlackApi) -> tuple[list[str], list[str]]:
    """What the bot posted in Ann's DM: about her files, and the agent's replies to her
    messages (the fake model echoes), which come as for any message."""
    texts = [str(m["text"]) for m in api.posted("DUANN")]
    replies = [t for t in texts if t.startswith("echo:")]
    return [t for t in texts if t not in replies], replies
