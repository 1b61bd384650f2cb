"""The inspector's JSON API against a whole runtime and the scripted model server: token
auth, the OpenAPI document, and memory seen through the audience of a chosen conversation."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.http import build_app
from bot.inspector import inspector_link, mount_inspector
from engine.agent.creation import create_agent
from engine.audience import Audience, AudienceKind, Scope
from engine.records import ConversationKey, Message, Role, new_id, next_seq, utcnow
from jobs import JobHistory, RunRecord, RunStatus
from tests.fakes.openai_server import FakeOpenAI, tool_call
from tests.harness import Bot, bot_running, settings_for

TOKEN = "inspector-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
DM_ALICE = {"workspace": "test:W1", "kind": "dm", "channel": "D-alice", "user": "alice"}
DM_BOB = {"workspace": "test:W1", "kind": "dm", "channel": "D-bob", "user": "bob"}
GENERAL_ALICE = {"workspace": "test:W1", "kind": "public", "channel": "C-general", "user": "alice"}


@dataclass
class Inspector:
    bot: Bot
    client: TestClient[web.Request, web.Application]
    llm: FakeOpenAI

    @property
    def agent(self) -> str:
        return self.bot.runtime.default_agent.id

    async def get(self, path: str, **params: Any) -> Any:
        response = await self.client.get(f"/inspector/api{path}", params=params, headers=AUTH)
        assert response.status == 200, await response.text()
        return await response.json()

    async def send(self, method: str, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        response = await self.client.request(
            method, f"/inspector/api{path}", json=body, headers=AUTH
        )
        return response.status, await response.json()

    async def chat(self, conversation: dict[str, str], text: str) -> list[str]:
        status, body = await self.send(
            "POST", f"/agents/{self.agent}/chat", {**conversation, "text": text}
        )
        assert status == 200, body
        return list(body["replies"])

    async def human_block(self, conversation: dict[str, str]) -> str:
        found = await self.get(f"/agents/{self.agent}/blocks", **conversation)
        return next(str(b["value"]) for b in found["blocks"] if b["label"] == "human")


def system_before_metadata(request: dict[str, Any]) -> str:
    return str(request["messages"][0]["content"]).split("<memory_metadata>")[0]


@pytest.fixture
async def inspector(tmp_path: Path) -> AsyncIterator[Inspector]:
    async with FakeOpenAI() as llm, inspector_running(tmp_path, llm) as running:
        yield running


@contextlib.asynccontextmanager
async def inspector_running(
    data_dir: Path, llm: FakeOpenAI, **settings: object
) -> AsyncIterator[Inspector]:
    """The whole bot on ``data_dir`` with its inspector, called through its HTTP API."""
    configured = settings_for(data_dir, llm, MNEMO_INSPECTOR_TOKEN=TOKEN, **settings)
    async with (
        bot_running(configured, llm) as bot,
        TestClient(
            TestServer(build_app(bot.runtime.http_services(), bot.runtime.settings))
        ) as client,
    ):
        yield Inspector(bot, client, llm)


async def test_api_refuses_requests_without_the_right_token(inspector: Inspector) -> None:
    client = inspector.client
    assert (await client.get("/inspector/api/agents")).status == 401
    wrong = await client.get("/inspector/api/agents", headers={"Authorization": "Bearer nope"})
    assert wrong.status == 401
    assert "Bearer" in (await wrong.json())["error"]
    ok = await client.get("/inspector/api/agents", headers=AUTH)
    assert ok.status == 200
    assert [a["name"] for a in (await ok.json())["agents"]] == ["mnemo"]


async def test_agents_name_the_default_one_the_page_opens_on(inspector: Inspector) -> None:
    store = inspector.bot.runtime.store
    await create_agent(store, "aardvark", model="fake-model")

    listed = await inspector.get("/agents")

    assert [a["name"] for a in listed["agents"]] == ["aardvark", "mnemo"]
    assert listed["default_agent_id"] == inspector.agent


async def test_openapi_document_lists_every_api_route(inspector: Inspector) -> None:
    response = await inspector.client.get("/inspector/api/openapi.json")
    assert response.status == 200
    document = json.loads(await response.text())
    assert document["openapi"].startswith("3.")
    documented = {(m.upper(), p) for p, ops in document["paths"].items() for m in ops}
    served = {
        (route.method, route.resource.canonical)
        for route in inspector.client.app.router.routes()
        if route.resource is not None
        and route.resource.canonical.startswith("/inspector/api/")
        and route.method != "HEAD"
    } - {("GET", "/inspector/api/openapi.json")}
    assert served
    assert served == documented
    body_refs = [
        op["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
        for ops in document["paths"].values()
        for op in ops.values()
        if "requestBody" in op
    ]
    assert all(name in document["components"]["schemas"] for name in body_refs)


async def test_page_is_served_with_its_assets(inspector: Inspector) -> None:
    bare = await inspector.client.get("/inspector", allow_redirects=False)
    assert bare.headers["Location"] == "/inspector/"
    page = await inspector.client.get("/inspector/")
    assert page.status == 200
    assert "<title>Mnemo inspector</title>" in await page.text()
    script = await inspector.client.get("/inspector/static/app.js")
    assert script.status == 200
    assert "/inspector/api" in await script.text()


async def test_replies_after_a_mark_are_the_later_ones_of_that_conversation(
    inspector: Inspector,
) -> None:
    path = f"/agents/{inspector.agent}/chat"
    _, first = await inspector.send("POST", path, {**DM_ALICE, "text": "one"})
    await inspector.chat(DM_BOB, "two")
    _, third = await inspector.send("POST", path, {**DM_ALICE, "text": "three"})
    # A chat request's mark is where its own replies start (a 202's reply is fetched later).
    assert await inspector.get(path, **DM_ALICE, after=third["mark"]) == {
        "replies": third["replies"]
    }
    since_first = await inspector.get(path, **DM_ALICE, after=first["mark"])
    assert since_first == {"replies": [*first["replies"], *third["replies"]]}
    assert [r.rsplit(": ", 1)[-1] for r in since_first["replies"]] == ["one", "three"]


async def test_chat_edits_a_block_that_the_dm_sees_and_the_channel_does_not(
    inspector: Inspector,
) -> None:
    inspector.llm.push(
        tool_call("core_memory_append", label="human", content="Allergic to peanuts."),
        tool_call("send_message", message="Noted, no peanuts."),
    )
    assert await inspector.chat(DM_ALICE, "I'm allergic to peanuts") == ["Noted, no peanuts."]
    assert "Allergic to peanuts." in await inspector.human_block(DM_ALICE)
    assert "peanuts" not in await inspector.human_block(GENERAL_ALICE)

    in_dm = await inspector.get(f"/agents/{inspector.agent}/recall", **DM_ALICE, q="peanuts")
    assert any("peanuts" in m["content"] for m in in_dm["messages"])
    in_public = await inspector.get(
        f"/agents/{inspector.agent}/recall", **GENERAL_ALICE, q="peanuts"
    )
    assert in_public["messages"] == []
    assert in_public["total"] == 0


async def test_context_window_is_the_next_request_with_counts_and_budget(
    inspector: Inspector,
) -> None:
    inspector.llm.push(tool_call("send_message", message="Hello Alice."))
    await inspector.chat(DM_ALICE, "Hi, I'm Alice")
    window = await inspector.get(f"/agents/{inspector.agent}/context", **DM_ALICE)
    request = window["request"]
    assert request["model"] == inspector.bot.runtime.default_agent.model
    assert request["messages"][0]["role"] == "system"
    contents = json.dumps(request["messages"])
    assert "Hi, I'm Alice" in contents
    assert "Hello Alice." in contents
    assert {t["function"]["name"] for t in request["tools"]} >= {"send_message", "no_reply"}
    assert set(window["sections"]) == {
        "system",
        "blocks",
        "metadata",
        "summary",
        "messages",
        "tools",
    }
    assert window["total"] == sum(window["sections"].values())
    assert 0 < window["total"] <= window["budget"] - window["answer_reserve"]
    # Prompt, blocks and tools are what the model was sent at the last turn's first step
    # (only the metadata's counts have grown since: the turn's messages are now in recall).
    sent = inspector.llm.chat_requests[0]
    assert system_before_metadata(request) == system_before_metadata(sent)
    assert request["tools"] == sent["tools"]


async def test_context_view_of_an_overfull_window_writes_nothing(inspector: Inspector) -> None:
    runtime = inspector.bot.runtime
    agent = runtime.default_agent
    dm_alice = Audience("test:W1", AudienceKind.DM, "D-alice", "alice")
    chatter = "we talked about the garden, the tomatoes and the weather again " * 8
    await runtime.store.messages.append(
        [
            Message(
                id=new_id(),
                agent_id=agent.id,
                workspace="test:W1",
                channel="D-alice",
                thread="",
                scope=dm_alice.write_scope,
                role=Role.USER,
                author="alice",
                author_name="Alice",
                content=f"{n}: {chatter}",
                seq=next_seq(),
                created_at=utcnow(),
            )
            for n in range(150)
        ]
    )
    window = await inspector.get(f"/agents/{inspector.agent}/context", **DM_ALICE)

    # The next turn would fold the oldest messages into the summary; looking does not.
    assert window["messages_to_fold"] > 0
    assert window["total"] <= window["budget"] - window["answer_reserve"]
    key = ConversationKey(agent.id, "test:W1", "D-alice", "")
    assert await runtime.store.summaries.get(key) is None
    assert inspector.llm.chat_requests == []


async def test_block_edit_with_a_stale_version_is_a_conflict(inspector: Inspector) -> None:
    agent = inspector.agent
    status, written = await inspector.send(
        "PUT", f"/agents/{agent}/blocks/labels/human", {**DM_ALICE, "value": "Prefers tea."}
    )
    assert status == 200, written
    part = next(p for p in written["parts"] if p["writable"])
    edit = {**DM_ALICE, "value": "Prefers coffee.", "expected_version": part["version"]}
    status, updated = await inspector.send(
        "PUT", f"/agents/{agent}/blocks/parts/{part['id']}", edit
    )
    assert status == 200, updated
    assert updated["version"] == part["version"] + 1
    status, conflict = await inspector.send(
        "PUT", f"/agents/{agent}/blocks/parts/{part['id']}", {**edit, "value": "Prefers water."}
    )
    assert status == 409
    assert conflict["current"]["value"] == "Prefers coffee."
    assert await inspector.human_block(DM_ALICE) == "Prefers coffee."
    too_long = {**edit, "value": "x" * 2001, "expected_version": updated["version"]}
    status, refused = await inspector.send(
        "PUT", f"/agents/{agent}/blocks/parts/{part['id']}", too_long
    )
    assert status == 422
    assert "2001/2000" in refused["error"]
    # Bob's DM cannot reach Alice's private part at all.
    status, _ = await inspector.send(
        "PUT",
        f"/agents/{agent}/blocks/parts/{part['id']}",
        {**DM_BOB, "value": "x", "expected_version": updated["version"]},
    )
    assert status == 404


async def test_tool_tester_stores_archival_in_the_conversations_scope(
    inspector: Inspector,
) -> None:
    agent = inspector.agent
    tools = await inspector.get(f"/agents/{agent}/tools")
    assert "archival_memory_insert" in {t["name"] for t in tools["tools"]}
    status, result = await inspector.send(
        "POST",
        f"/agents/{agent}/tools/archival_memory_insert/run",
        {**DM_ALICE, "arguments": {"content": "Alice's locker code is 4711.", "tags": ["alice"]}},
    )
    assert status == 200, result
    assert result["error"] is False

    in_dm = await inspector.get(f"/agents/{agent}/archival", **DM_ALICE)
    assert [p["text"] for p in in_dm["passages"]] == ["Alice's locker code is 4711."]
    found = await inspector.get(f"/agents/{agent}/archival", **DM_ALICE, q="locker code")
    assert found["passages"][0]["text"] == "Alice's locker code is 4711."
    assert (await inspector.get(f"/agents/{agent}/archival", **DM_BOB))["passages"] == []

    passage = in_dm["passages"][0]["id"]
    refused = await inspector.client.delete(
        f"/inspector/api/agents/{agent}/archival/{passage}", params=DM_BOB, headers=AUTH
    )
    assert refused.status == 404
    deleted = await inspector.client.delete(
        f"/inspector/api/agents/{agent}/archival/{passage}", params=DM_ALICE, headers=AUTH
    )
    assert (await deleted.json()) == {"deleted": 1}
    assert (await inspector.get(f"/agents/{agent}/archival", **DM_ALICE))["total"] == 0


async def test_tool_tester_returns_a_reply_without_sending_it(inspector: Inspector) -> None:
    status, result = await inspector.send(
        "POST",
        f"/agents/{inspector.agent}/tools/send_message/run",
        {**DM_ALICE, "arguments": {"message": "Just testing."}},
    )
    assert status == 200, result
    assert (result["replies"], result["terminal"], result["error"]) == (
        ["Just testing."],
        True,
        False,
    )
    store = inspector.bot.runtime.store
    assert await store.outbox.due(utcnow() + timedelta(days=1), 10) == []


async def test_tool_tester_reports_bad_arguments_as_the_agent_would_see_them(
    inspector: Inspector,
) -> None:
    status, result = await inspector.send(
        "POST",
        f"/agents/{inspector.agent}/tools/core_memory_append/run",
        {**DM_ALICE, "arguments": {"label": "human"}},
    )
    assert status == 200
    assert result["error"] is True
    assert "content" in result["output"]


async def test_bad_conversation_is_a_400_naming_the_parameter(inspector: Inspector) -> None:
    response = await inspector.client.get(
        f"/inspector/api/agents/{inspector.agent}/blocks",
        params={"workspace": "test:W1", "kind": "dm", "channel": "D-x"},
        headers=AUTH,
    )
    assert response.status == 400
    assert "user" in (await response.json())["error"]
    missing = await inspector.client.get("/inspector/api/agents/nobody/blocks", headers=AUTH)
    assert missing.status == 404


async def test_conversations_and_job_runs_are_listed(inspector: Inspector) -> None:
    inspector.llm.push(tool_call("send_message", message="Hi."))
    await inspector.chat(GENERAL_ALICE, "hello channel")
    conversations = (await inspector.get("/conversations"))["conversations"]
    assert {
        (c["kind"], c["channel"]) for c in conversations if c["agent_id"] == inspector.agent
    } == {("public", "C-general")}

    started = utcnow() - timedelta(minutes=1)
    await JobHistory(inspector.bot.runtime.store.jobs).save_run(
        RunRecord(
            id=new_id(),
            job="consolidation",
            target="t1",
            workspace="test:W1",
            scope=Scope.workspace(),
            holder="h",
            attempt=1,
            started_at=started,
            status=RunStatus.OK,
            ended_at=started + timedelta(seconds=2),
            tokens=120,
        )
    )
    runs = await inspector.get("/jobs/runs", job="consolidation")
    assert [(r["job"], r["status"], r["tokens"]) for r in runs["runs"]] == [
        ("consolidation", "ok", 120)
    ]


async def test_without_a_token_the_inspector_serves_only_on_localhost(
    tmp_path: Path,
) -> None:
    async with FakeOpenAI() as llm:
        exposed = settings_for(tmp_path, llm, MNEMO_HTTP_HOST="0.0.0.0")
        async with bot_running(exposed, llm) as bot:
            services = bot.runtime.inspector_services()
            assert mount_inspector(web.Application(), services, exposed) is None
        local = settings_for(tmp_path, llm, MNEMO_HTTP_HOST="127.0.0.1", MNEMO_HTTP_PORT=8123)
        async with bot_running(local, llm) as bot:
            app = web.Application()
            token = mount_inspector(app, bot.runtime.inspector_services(), local)
    assert token
    link = inspector_link(app, "127.0.0.1", 8123)
    assert link == f"http://127.0.0.1:8123/inspector/#token={token}"
