"""The Slack adapter at its boundary: real slack-bolt and slack_sdk against the fake Slack
servers, with a recording stand-in for the engine's intake."""

from __future__ import annotations

import builtins
import dataclasses
import html
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import aiohttp
import pytest
from aiohttp import web

from adapters.slack import ChannelPolicy, SlackAdapter, SlackConfig
from engine.audience import AudienceKind, Scope
from engine.ports import (
    DeliveryError,
    ForgetReport,
    ReceiveOutcome,
    ReceiveResult,
    UserMemoryReport,
)
from engine.records import JSON, Inbound, InboundKind, Outbound, new_id, utcnow
from engine.store.state import DeliveryLedger
from tests.fakes.memory_items import MemoryItemsDouble
from tests.fakes.slack_api import FakeSlackApi, signed_form, signed_headers
from tests.fakes.slack_socket import FakeSocketMode

SECRET = "test-signing-secret"


@dataclass
class RecordingInbox:
    received: list[Inbound] = field(default_factory=list)
    rejected: list[tuple[JSON, str]] = field(default_factory=list)

    async def receive(self, inbound: Inbound) -> ReceiveResult:
        self.received.append(inbound)
        return ReceiveResult(ReceiveOutcome.ACCEPTED, inbox_id=new_id())

    async def reject(self, platform: str, raw: JSON, error: str) -> None:
        self.rejected.append((raw, error))


@dataclass
class RecordingMemory(MemoryItemsDouble):
    forgotten: list[tuple[str, str]] = field(default_factory=list)

    async def about_user(self, workspace: str, user: str) -> UserMemoryReport:
        return UserMemoryReport(workspace, user, (("human", Scope.dm(user), "likes tea"),), (), 3)

    async def forget_user(self, workspace: str, user: str) -> ForgetReport:
        self.forgotten.append((workspace, user))
        return ForgetReport(messages=7, passages=1)

    async def export_user(self, workspace: str, user: str) -> bytes:
        return json.dumps({"workspace": workspace, "user": user}).encode()


class MemoryKeyValues:
    def __init__(self) -> None:
        self.data: dict[tuple[str, str], JSON] = {}

    async def get(self, namespace: str, key: str) -> JSON | None:
        return self.data.get((namespace, key))

    async def put(self, namespace: str, key: str, value: JSON) -> None:
        self.data[(namespace, key)] = json.loads(json.dumps(value))

    async def delete(self, namespace: str, key: str) -> bool:
        return self.data.pop((namespace, key), None) is not None

    async def list(self, namespace: str, prefix: str = "") -> builtins.list[tuple[str, JSON]]:
        return sorted(
            (k, v) for (n, k), v in self.data.items() if n == namespace and k.startswith(prefix)
        )


class MemoryLedgers:
    def __init__(self) -> None:
        self.data: dict[str, DeliveryLedger] = {}

    async def get(self, reply_id: str) -> DeliveryLedger | None:
        return self.data.get(reply_id)

    async def put(self, ledger: DeliveryLedger) -> None:
        self.data[ledger.reply_id] = ledger

    async def prune(self, before: datetime) -> int:
        old = [key for key, ledger in self.data.items() if ledger.created_at < before]
        for key in old:
            del self.data[key]
        return len(old)


@dataclass
class Rig:
    api: FakeSlackApi
    adapter: SlackAdapter
    inbox: RecordingInbox
    memory: RecordingMemory
    kv: MemoryKeyValues
    ledgers: MemoryLedgers
    http: aiohttp.ClientSession
    base: str

    async def post_event(
        self, body: dict[str, Any], secret: str = SECRET
    ) -> aiohttp.ClientResponse:
        raw = json.dumps(body)
        headers = {"Content-Type": "application/json", **signed_headers(secret, raw)}
        async with self.http.post(f"{self.base}/slack/events", data=raw, headers=headers) as r:
            await r.read()
            return r

    async def post_form(self, form: dict[str, str]) -> tuple[int, str]:
        raw, headers = signed_form(SECRET, form)
        async with self.http.post(f"{self.base}/slack/events", data=raw, headers=headers) as r:
            return r.status, await r.text()


def event_body(event: dict[str, Any], event_id: str = "Ev1", team: str = "T0001") -> JSON:
    return {
        "type": "event_callback",
        "team_id": team,
        "event_id": event_id,
        "api_app_id": "A1",
        "event": event,
    }


def dm_event(text: str = "hello", ts: str = "1700000000.000100") -> JSON:
    return {
        "type": "message",
        "channel": "D1",
        "channel_type": "im",
        "user": "U1",
        "text": text,
        "ts": ts,
    }


@pytest.fixture
async def api() -> AsyncIterator[FakeSlackApi]:
    fake = FakeSlackApi(
        users={"U1": {"name": "ann", "profile": {"display_name": "Ann"}}},
        channels={
            "C1": {"name": "general", "is_private": False},
            "G1": {"name": "secret", "is_private": True},
            "CX": {"name": "partners", "is_ext_shared": True},
        },
    )
    await fake.start()
    yield fake
    await fake.stop()


async def make_rig(api: FakeSlackApi, **config: Any) -> AsyncIterator[Rig]:
    settings: dict[str, Any] = {
        "agent_id": "agent-1",
        "bot_token": "xoxb-test",
        "signing_secret": SECRET,
        "api_base_url": api.base_url,
    }
    settings.update(config)
    inbox, memory, kv, ledgers = (
        RecordingInbox(),
        RecordingMemory(),
        MemoryKeyValues(),
        MemoryLedgers(),
    )
    adapter = SlackAdapter(SlackConfig(**settings), inbox, memory, kv, ledgers)
    app = web.Application()
    adapter.mount(app)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    async with aiohttp.ClientSession() as http:
        yield Rig(api, adapter, inbox, memory, kv, ledgers, http, f"http://127.0.0.1:{port}")
    await adapter.stop()
    await runner.cleanup()


@pytest.fixture
async def rig(api: FakeSlackApi) -> AsyncIterator[Rig]:
    async for r in make_rig(api, channel_policies={"COPEN": ChannelPolicy.OPEN}):
        yield r


def outbound(text: str, channel: str = "C1", thread: str = "1700.1") -> Outbound:
    return Outbound(
        id=new_id(),
        inbox_id=new_id(),
        platform="slack",
        agent_id="agent-1",
        workspace="slack:T0001",
        channel=channel,
        thread=thread,
        text=text,
    )


# -- events -------------------------------------------------------------------------------------


async def test_signed_dm_event_reaches_the_engine_as_a_dm(rig: Rig) -> None:
    response = await rig.post_event(event_body(dm_event("remember: I like tea")))
    assert response.status == 200
    [inbound] = rig.inbox.received
    assert inbound.audience.kind is AudienceKind.DM
    assert inbound.audience.user == "U1"
    assert inbound.workspace == "slack:T0001"
    assert inbound.author.name == "Ann"
    assert inbound.text == "remember: I like tea"
    assert inbound.thread == ""


async def test_bad_signature_is_refused_with_401(rig: Rig) -> None:
    response = await rig.post_event(event_body(dm_event()), secret="not-the-secret")
    assert response.status == 401
    assert rig.inbox.received == []


async def test_url_verification_echoes_the_challenge(rig: Rig) -> None:
    raw = json.dumps({"type": "url_verification", "challenge": "c-123", "token": "t"})
    headers = {"Content-Type": "application/json", **signed_headers(SECRET, raw)}
    async with rig.http.post(f"{rig.base}/slack/events", data=raw, headers=headers) as r:
        assert r.status == 200
        assert "c-123" in await r.text()


async def test_events_nobody_handles_still_get_200(rig: Rig) -> None:
    reaction = {
        "type": "reaction_added",
        "user": "U1",
        "reaction": "tada",
        "item": {"type": "message", "channel": "C1", "ts": "1.1"},
    }
    assert (await rig.post_event(event_body(reaction))).status == 200
    status, _ = await rig.post_form(
        {
            "payload": json.dumps(
                {
                    "type": "shortcut",
                    "callback_id": "other",
                    "team": {"id": "T0001"},
                    "user": {"id": "U1"},
                    "trigger_id": "t",
                }
            )
        }
    )
    assert status == 200
    assert rig.inbox.received == []


async def test_mention_in_public_channel_is_public_and_threads_on_the_message(rig: Rig) -> None:
    mention = {
        "type": "app_mention",
        "channel": "C1",
        "user": "U1",
        "ts": "1700.5",
        "text": "<@UBOT> hi",
    }
    assert (await rig.post_event(event_body(mention))).status == 200
    [inbound] = rig.inbox.received
    assert inbound.audience.kind is AudienceKind.PUBLIC
    assert inbound.thread == "1700.5"
    assert inbound.channel_name == "#general"
    assert inbound.respond


async def test_channel_privacy_comes_from_conversations_info_and_is_cached(rig: Rig) -> None:
    for i, channel in enumerate(["G1", "CX", "G1"]):
        mention = {
            "type": "app_mention",
            "channel": channel,
            "user": "U1",
            "ts": f"1700.{i}",
            "text": "<@UBOT> hi",
        }
        await rig.post_event(event_body(mention, event_id=f"Ev{i}"))
    kinds = [i.audience.kind for i in rig.inbox.received]
    assert kinds == [AudienceKind.PRIVATE] * 3
    assert len(rig.api.calls_of("conversations.info")) == 2


async def test_unaddressed_message_in_mention_channel_is_not_kept(rig: Rig) -> None:
    chatter = {
        "type": "message",
        "channel": "C1",
        "channel_type": "channel",
        "user": "U1",
        "text": "lunch?",
        "ts": "1700.7",
    }
    assert (await rig.post_event(event_body(chatter))).status == 200
    assert rig.inbox.received == []
    open_chatter = {**chatter, "channel": "COPEN"}
    await rig.post_event(event_body(open_chatter, event_id="Ev2"))
    assert [i.respond for i in rig.inbox.received] == [True]


async def test_edits_and_deletions_reach_the_engine(rig: Rig) -> None:
    edit = {
        "type": "message",
        "subtype": "message_changed",
        "channel": "D1",
        "channel_type": "im",
        "message": {"type": "message", "user": "U1", "text": "new", "ts": "5.5"},
        "previous_message": {"type": "message", "user": "U1", "text": "old", "ts": "5.5"},
    }
    delete = {
        "type": "message",
        "subtype": "message_deleted",
        "channel": "D1",
        "channel_type": "im",
        "deleted_ts": "5.5",
        "previous_message": {"type": "message", "user": "U1", "text": "new", "ts": "5.5"},
    }
    await rig.post_event(event_body(edit, event_id="Ev1"))
    await rig.post_event(event_body(delete, event_id="Ev2"))
    assert [i.kind for i in rig.inbox.received] == [InboundKind.EDIT, InboundKind.DELETE]


async def test_bot_messages_are_ignored_and_malformed_events_rejected(rig: Rig) -> None:
    own = {**dm_event(), "user": "UBOT", "bot_id": "BBOT"}
    other_bot = {**dm_event(), "subtype": "bot_message", "bot_id": "B2"}
    broken = {"type": "message", "channel": "D1", "channel_type": "im", "user": "U1"}
    for i, event in enumerate([own, other_bot, broken]):
        assert (await rig.post_event(event_body(event, event_id=f"Ev{i}"))).status == 200
    assert rig.inbox.received == []
    [(raw, error)] = rig.inbox.rejected
    assert raw["event_id"] == "Ev2"
    assert "ts" in error


async def test_socket_mode_event_is_acked_after_the_engine_has_it(api: FakeSlackApi) -> None:
    socket = FakeSocketMode()
    await socket.start()
    api.socket_url = socket.url
    try:
        async for rig in make_rig(api, app_token="xapp-test", signing_secret=""):
            await rig.adapter.start()
            await socket.wait_connected()
            envelope = await socket.send_event(event_body(dm_event("over the socket")))
            await socket.wait_acked(envelope)
            assert [i.text for i in rig.inbox.received] == ["over the socket"]
            [open_call] = api.calls_of("apps.connections.open")
            assert open_call.token == "xapp-test"
    finally:
        await socket.stop()


# -- delivery -----------------------------------------------------------------------------------


async def test_long_reply_is_posted_in_the_thread_in_chunks_with_its_id(rig: Rig) -> None:
    paragraph = "Mnemo keeps what matters and forgets on request. " * 8
    reply = outbound("\n\n".join([paragraph.strip()] * 25)[:10_000])
    first = await rig.adapter.platform_port.deliver(reply)
    posts = rig.api.posted("C1")
    assert len(posts) == 3
    assert first == posts[0]["ts"]
    assert all(len(p["text"]) <= 4_000 for p in posts)
    assert {p["thread_ts"] for p in posts} == {"1700.1"}
    assert [p["metadata"]["event_payload"] for p in posts] == [
        {"outbound_id": reply.id, "part": i} for i in range(3)
    ]


async def test_rate_limited_post_is_retried_after_retry_after(rig: Rig) -> None:
    rig.api.rate_limit("chat.postMessage", retry_after=1)
    await rig.adapter.platform_port.deliver(outbound("hi"))
    assert len(rig.api.calls_of("chat.postMessage")) == 2
    assert len(rig.api.posted()) == 1


async def test_rate_limit_that_persists_tells_the_engine_when_to_retry(rig: Rig) -> None:
    rig.api.rate_limit("chat.postMessage", retry_after=1, times=5)
    with pytest.raises(DeliveryError) as caught:
        await rig.adapter.platform_port.deliver(outbound("hi"))
    assert caught.value.retry_after == 1
    assert not caught.value.permanent


async def test_server_error_is_retried(rig: Rig) -> None:
    rig.api.fail("chat.postMessage", status=503, error="service_unavailable")
    await rig.adapter.platform_port.deliver(outbound("hi"))
    assert len(rig.api.posted()) == 1


async def test_channel_gone_is_a_permanent_failure(rig: Rig) -> None:
    rig.api.fail("chat.postMessage", error="channel_not_found")
    with pytest.raises(DeliveryError) as caught:
        await rig.adapter.platform_port.deliver(outbound("hi"))
    assert caught.value.permanent


async def test_delivering_the_same_reply_again_posts_nothing(rig: Rig) -> None:
    reply = outbound("only once")
    first = await rig.adapter.platform_port.deliver(reply)
    again = await rig.adapter.platform_port.deliver(reply)
    assert again == first
    assert len(rig.api.posted()) == 1


async def test_crash_after_posting_before_recording_is_recovered_from_history(rig: Rig) -> None:
    reply = outbound(("word " * 1_000 + "\n\n") * 9, thread="1700.1")
    await rig.adapter.platform_port.deliver(reply)
    posted = len(rig.api.posted())
    assert posted >= 2
    # The process died after Slack took every part but before the ledger recorded them.
    [ledger] = rig.ledgers.data.values()
    assert len(ledger.posted) == posted
    rig.ledgers.data[reply.id] = dataclasses.replace(ledger, posted=ledger.posted[:1])
    assert await rig.adapter.platform_port.deliver(reply) == ledger.posted[0]
    assert rig.ledgers.data[reply.id].posted == ledger.posted
    assert len(rig.api.posted()) == posted
    assert len(rig.api.calls_of("conversations.replies")) == 1


async def test_old_delivery_records_are_pruned_and_recent_ones_kept(rig: Rig) -> None:
    port = rig.adapter.platform_port
    old = dataclasses.replace(outbound("old"), created_at=utcnow() - timedelta(days=9))
    recent = outbound("recent")
    await port.deliver(old)
    await port.deliver(recent)
    assert await port.prune(utcnow()) == 1
    assert list(rig.ledgers.data) == [recent.id]


async def test_thinking_status_is_shown_and_cleared_or_skipped(rig: Rig) -> None:
    mention = {
        "type": "app_mention",
        "channel": "C1",
        "user": "U1",
        "ts": "1700.5",
        "text": "<@UBOT> hi",
    }
    await rig.post_event(event_body(mention))
    [inbound] = rig.inbox.received
    async with rig.adapter.platform_port.working(inbound):
        pass
    statuses = [c.args["status"] for c in rig.api.calls_of("assistant.threads.setStatus")]
    assert statuses == ["is thinking...", ""]
    rig.api.assistant_threads = False
    for _ in range(2):
        async with rig.adapter.platform_port.working(inbound):
            pass
    assert len(rig.api.calls_of("assistant.threads.setStatus")) == 3


# -- /mnemo -------------------------------------------------------------------------------------


def command(text: str) -> dict[str, str]:
    return {
        "command": "/mnemo",
        "text": text,
        "team_id": "T0001",
        "user_id": "U1",
        "channel_id": "C1",
        "response_url": "",
        "trigger_id": "t",
    }


async def test_memory_command_shows_the_report_to_the_user_only(rig: Rig) -> None:
    status, text = await rig.post_form(command("memory"))
    assert status == 200
    body = json.loads(text)
    assert "likes tea" in body["text"]
    assert "only in our DM" in body["text"]
    assert body.get("response_type", "ephemeral") == "ephemeral"


async def test_forget_asks_then_deletes_on_confirmation(rig: Rig) -> None:
    status, text = await rig.post_form(command("forget"))
    assert status == 200
    assert rig.memory.forgotten == []
    [button] = [
        e
        for b in json.loads(text)["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "mnemo_forget_confirm"
    ]
    action = {
        "type": "block_actions",
        "team": {"id": "T0001"},
        "user": {"id": "U1"},
        "api_app_id": "A1",
        "trigger_id": "t",
        "container": {"type": "message"},
        "response_url": rig.api.response_url("forget"),
        "actions": [button],
    }
    status, _ = await rig.post_form({"payload": json.dumps(action)})
    assert status == 200
    await rig.api.wait_until(lambda: bool(rig.api.responses))
    assert rig.memory.forgotten == [("slack:T0001", "U1")]
    assert "deleted everything" in rig.api.responses[0]["text"]
    assert "7 messages, 1 archival note" in rig.api.responses[0]["text"]


async def test_export_is_uploaded_to_the_users_dm(rig: Rig) -> None:
    status, text = await rig.post_form(command("export"))
    assert status == 200
    assert "DM" in json.loads(text)["text"]
    await rig.api.wait_until(lambda: bool(rig.api.calls_of("files.completeUploadExternal")))
    [upload] = rig.api.uploads.values()
    assert json.loads(upload) == {"workspace": "slack:T0001", "user": "U1"}
    [complete] = rig.api.calls_of("files.completeUploadExternal")
    assert complete.args["channel_id"] == "DU1"


# -- multi-workspace ----------------------------------------------------------------------------


async def test_oauth_install_stores_the_workspace_and_delivery_uses_its_token(
    api: FakeSlackApi,
) -> None:
    async for rig in make_rig(api, bot_token="", client_id="111.222", client_secret="s3"):
        async with rig.http.get(f"{rig.base}/slack/install", allow_redirects=False) as r:
            assert r.status == 200
            page = await r.text()
            # The browser's state cookie (Secure, so sent back by hand over plain http).
            cookie = "; ".join(f"{k}={m.value}" for k, m in r.cookies.items())
        [authorize_url] = re.findall(r'href="(https://slack.com/oauth/v2/authorize[^"]+)"', page)
        query = parse_qs(urlparse(html.unescape(authorize_url)).query)
        assert query["client_id"] == ["111.222"]
        assert "chat:write" in query["scope"][0]
        [state_value] = query["state"]
        redirect = f"{rig.base}/slack/oauth_redirect?code=c0de&state={state_value}"
        async with rig.http.get(redirect, headers={"Cookie": cookie}) as r:
            assert r.status == 200, await r.text()
        await rig.adapter.platform_port.deliver(outbound("hello new workspace"))
        [post] = api.calls_of("chat.postMessage")
        assert post.token == "xoxb-installed-T0001"
        # A state value works once.
        async with rig.http.get(redirect, headers={"Cookie": cookie}) as r:
            assert r.status == 401


async def test_delivery_to_an_uninstalled_workspace_fails_permanently(api: FakeSlackApi) -> None:
    async for rig in make_rig(api, bot_token="", client_id="111.222", client_secret="s3"):
        with pytest.raises(DeliveryError) as caught:
            await rig.adapter.platform_port.deliver(outbound("anyone?"))
        assert caught.value.permanent
