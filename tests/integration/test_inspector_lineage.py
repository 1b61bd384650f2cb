"""The inspector's lineage API: each block line's and passage's sources, "why", and forgetting
one line or passage, all through the audience of the chosen conversation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.http import build_app
from engine import Audience, AudienceKind
from tests.fakes.memory_items import Remembered, remember_birthday
from tests.fakes.openai_server import FakeOpenAI
from tests.harness import bot_running, settings_for

TOKEN = "lineage-test-token"
GENERAL = {"workspace": "test:W1", "kind": "public", "channel": "C-general", "user": "alice"}
DM = {"workspace": "test:W1", "kind": "dm", "channel": "D-alice", "user": "alice"}

type Client = TestClient[web.Request, web.Application]


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[tuple[Client, str, Remembered]]:
    async with FakeOpenAI() as llm:
        settings = settings_for(tmp_path, llm, MNEMO_INSPECTOR_TOKEN=TOKEN)
        async with bot_running(settings, llm) as bot:
            runtime = bot.runtime
            remembered = await remember_birthday(
                runtime.store,
                runtime.default_agent.id,
                Audience("test:W1", AudienceKind.PUBLIC, "C-general"),
                Audience("test:W1", AudienceKind.DM, "D-alice", "alice"),
                user="alice",
                name="Alice",
                public_ref="",
                dm_ref="",
            )
            app = build_app(runtime.http_services(), runtime.settings)
            async with TestClient(TestServer(app)) as test_client:
                yield test_client, f"/inspector/api/agents/{runtime.default_agent.id}", remembered


async def call(client: Client, method: str, path: str, **params: str) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    response = await client.request(method, path, params=params, headers=headers)
    return response.status, await response.json()


async def test_sources_show_each_line_and_passage_with_what_the_audience_may_read(
    client: tuple[Client, str, Remembered],
) -> None:
    http, agent, remembered = client
    status, public = await call(
        http, "GET", f"{agent}/sources", **GENERAL, passages=remembered.passage
    )
    assert status == 200
    [line] = [x for x in public["lines"] if x["record_id"] == remembered.channel_line]
    assert line["text"] == "Birthday of the week: 12 March"
    assert [s["text"] for s in line["sources"]] == ["my birthday is on 12 March"]
    assert public["passages"] == []  # learned in Alice's DM
    assert "lemon" not in str(public)

    status, dm = await call(http, "GET", f"{agent}/sources", **DM, passages=remembered.passage)
    [passage] = dm["passages"]
    assert passage["key"] == f"passage:{remembered.passage}"
    assert passage["sources"][0]["channel"] == "direct messages"
    [human] = [x for x in dm["lines"] if x["record_id"] == remembered.human_line]
    assert [s["text"] for s in human["sources"]] == ["birthday cake secret: lemon"]


async def test_why_in_a_public_channel_never_shows_a_dm_source(
    client: tuple[Client, str, Remembered],
) -> None:
    http, agent, _ = client
    status, found = await call(http, "GET", f"{agent}/why", **GENERAL, q="birthday")
    assert status == 200
    assert [i["text"] for i in found["items"]] == ["Birthday of the week: 12 March"]
    assert [s["channel"] for s in found["items"][0]["sources"]] == ["C-general"]
    status, _ = await call(http, "GET", f"{agent}/why", **GENERAL)
    assert status == 400


async def test_forget_removes_one_visible_line_or_passage_only(
    client: tuple[Client, str, Remembered],
) -> None:
    http, agent, remembered = client
    passage = f"{agent}/memory/passage/{remembered.passage}"
    status, _ = await call(http, "DELETE", passage, **GENERAL)
    assert status == 404  # not visible in a public channel
    status, removed = await call(http, "DELETE", passage, **DM)
    assert status == 200
    assert removed["total"] >= 1

    # A line's id holds a "#": escaped in the path, as the page escapes it.
    line = f"{agent}/memory/block_line/{quote(remembered.human_line, safe='')}"
    status, _ = await call(http, "DELETE", line, **GENERAL)
    assert status == 404
    status, _ = await call(http, "DELETE", line, **DM)
    assert status == 200
    status, dm = await call(http, "GET", f"{agent}/sources", **DM, passages=remembered.passage)
    assert dm["passages"] == []
    assert remembered.human_line not in {x["record_id"] for x in dm["lines"]}
    assert [x["label"] for x in dm["lines"]] == ["persona"]
    status, public = await call(http, "GET", f"{agent}/sources", **GENERAL)
    assert remembered.channel_line in {x["record_id"] for x in public["lines"]}
