"""Real-world Slack traffic through the production app: Slack Connect and Enterprise Grid
envelopes kept in the right workspace, audiences that fail private, content kept from blocks
and attachments, tombstones as deletions, sane timestamps, and malformed payloads answered 200
and recorded as rejected (counted in metrics, listed by the inspector) instead of 404s and 500s.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from slack_sdk.oauth.installation_store.models.installation import Installation

from adapters.slack import KeyValueInstallationStore
from bot.inspector.app import build_inspector
from engine.audience import AudienceKind
from engine.records import Inbound, InboundKind, utcnow
from tests.fakes import slack_payloads as p
from tests.fakes.openai_server import FakeOpenAI, tool_call
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.slack_socket import FakeSocketMode
from tests.fakes.slack_world import SlackWorld, collection_api, slack_bot

INSPECTOR_TOKEN = "traffic-inspector-token"


@pytest.fixture
async def api() -> AsyncIterator[FakeSlackApi]:
    """The Web API knowing the collection's users and channels."""
    async with collection_api() as fake:
        yield fake


@pytest.fixture
async def llm() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as server:
        yield server


@pytest.fixture
async def world(tmp_path: Path, llm: FakeOpenAI, api: FakeSlackApi) -> AsyncIterator[SlackWorld]:
    """The app whose engine keeps what it is given without running turns."""
    async with slack_bot(tmp_path, llm, api, turns=False) as w:
        yield w


def only(world: SlackWorld) -> Inbound:
    [inbound] = world.intake.inbounds
    return inbound


# -- the installation that received the event ---------------------------------------------------


async def test_slack_connect_event_is_kept_in_the_receiving_workspace_on_each_side(
    world: SlackWorld,
) -> None:
    said = p.message("<@UBOT> hi", channel="CSHARED")
    ours = p.connect_callback(said, ours=True, event_id="EvA")
    theirs = p.connect_callback(said, ours=False, event_id="EvB")
    assert await world.post(ours) == 200
    assert await world.post(theirs) == 200
    workspaces = [i.workspace for i in world.intake.inbounds]
    assert workspaces == ["slack:T0001", "slack:TPARTNER"]
    assert {i.audience.kind for i in world.intake.inbounds} == {AudienceKind.PRIVATE}


async def test_grid_org_wide_install_keeps_one_memory_per_workspace(world: SlackWorld) -> None:
    for workspace, event_id in (("TGRIDA", "EvGA"), ("TGRIDB", "EvGB")):
        body = p.grid_callback(p.message("<@UBOT> hi", channel="GSECRET"), workspace, event_id)
        # Org-wide installs name the org, not the workspace, at the top of the callback.
        body["team_id"] = p.ORG
        assert await world.post(body) == 200
    assert [i.workspace for i in world.intake.inbounds] == ["slack:TGRIDA", "slack:TGRIDB"]


async def test_grid_event_naming_no_workspace_of_the_org_is_kept_under_the_org(
    world: SlackWorld,
) -> None:
    body = p.grid_callback(p.message("<@UBOT> hi", channel="GSECRET"), "TGRIDA")
    body |= {"team_id": None, "context_team_id": None, "is_ext_shared_channel": True}
    assert await world.post(body) == 200
    assert only(world).workspace == "slack:E1"


# -- fail private ---------------------------------------------------------------------------------


@pytest.mark.parametrize("failure", ["not_found", "rate_limited", "server_error"])
async def test_shared_channel_is_private_when_conversations_info_fails(
    world: SlackWorld, failure: str
) -> None:
    channel = "CUNKNOWN" if failure == "not_found" else "CSHARED"
    if failure == "rate_limited":
        world.api.rate_limit("conversations.info", retry_after=1, times=5)
    elif failure == "server_error":
        world.api.fail("conversations.info", status=500, times=5)
    body = p.callback(p.message("<@UBOT> numbers", channel=channel), is_ext_shared_channel=True)
    assert await world.post(body) == 200
    assert only(world).audience.kind is AudienceKind.PRIVATE


async def test_channel_whose_privacy_cannot_be_looked_up_is_private(world: SlackWorld) -> None:
    world.api.fail("conversations.info", status=500, times=5)
    assert await world.post(p.callback(p.message("<@UBOT> hi"))) == 200
    assert only(world).audience.kind is AudienceKind.PRIVATE


async def test_connect_channel_is_never_public_even_when_slack_says_it_is(
    world: SlackWorld,
) -> None:
    body = p.callback(p.message("<@UBOT> hi", channel="CGEN"), is_ext_shared_channel=True)
    assert await world.post(body) == 200
    assert only(world).audience.kind is AudienceKind.PRIVATE


# -- content ---------------------------------------------------------------------------------------


async def test_blocks_and_attachments_are_read_when_text_is_empty(world: SlackWorld) -> None:
    payloads = p.event_payloads()
    for name in ("blocks_only", "attachments_only"):
        body = payloads[name] | {"event_id": f"Ev-{name}"}
        assert await world.post(body) == 200
    texts = [i.text for i in world.intake.inbounds]
    assert texts == ["from blocks", "an attachment"]


async def test_message_that_is_only_a_mention_of_the_bot_is_answered(
    tmp_path: Path, llm: FakeOpenAI, api: FakeSlackApi
) -> None:
    llm.push(tool_call("send_message", message="Yes?"))
    async with slack_bot(tmp_path, llm, api) as world:
        assert await world.post(p.event_payloads()["bare_mention"]) == 200
        [reply] = await world.replies(1, "CGEN")
    assert reply["text"] == "Yes?"
    assert reply["thread_ts"] == "1700000001.000100"


async def test_tombstone_is_a_deletion_not_an_edit(world: SlackWorld) -> None:
    assert await world.post(p.event_payloads()["tombstone"]) == 200
    inbound = only(world)
    assert inbound.kind is InboundKind.DELETE
    assert inbound.message_ref == "1700000001.000100"
    assert inbound.author.id == "UANN"


# -- timestamps ------------------------------------------------------------------------------------


async def test_timestamp_far_in_the_future_is_clamped_to_receipt(world: SlackWorld) -> None:
    before = utcnow()
    event = p.message("hello", channel="DUANN", channel_type="im", ts="99999999999.000100")
    assert await world.post(p.callback(event)) == 200
    inbound = only(world)
    assert before <= inbound.sent_at <= utcnow()
    assert inbound.message_ref == "99999999999.000100"


@pytest.mark.parametrize(("ts", "year"), [("86400.000100", 1970), ("-86400.000100", 1969)])
async def test_timestamp_before_slack_existed_is_kept_and_flagged(
    world: SlackWorld, caplog: pytest.LogCaptureFixture, ts: str, year: int
) -> None:
    event = p.message("hello", channel="DUANN", channel_type="im", ts=ts)
    with caplog.at_level(logging.WARNING):
        assert await world.post(p.callback(event)) == 200
    assert only(world).sent_at.year == year
    assert any("before Slack existed" in r.getMessage() for r in caplog.records)


# -- malformed payloads ----------------------------------------------------------------------------


def _malformed_events() -> list[tuple[str, dict[str, Any]]]:
    dm = p.message("hi", channel="DUANN", channel_type="im")
    return [
        ("authorizations not a list", p.callback(dm, authorizations=5)),
        ("authorization not an object", p.callback(dm, authorizations=[5])),
        ("event not an object", p.callback(dm) | {"event": "message"}),
        ("channel not a string", p.callback(dm | {"channel": 5})),
        ("channel an object", p.callback(dm | {"channel": {"id": 5}})),
        ("ts nan", p.callback(dm | {"ts": "nan"})),
        ("ts overflowing", p.callback(dm | {"ts": "1e309"})),
        ("ts an object", p.callback(dm | {"ts": {"a": 1}})),
        ("text not a string", p.callback(dm | {"text": ["hi"]})),
        ("user unhashable", p.callback(dm | {"user": {"id": "UANN"}})),
        ("event id not a string", p.callback(dm) | {"event_id": 12}),
        ("event type not a string", p.callback(dm | {"type": ["message"]})),
    ]


@pytest.mark.parametrize(("case", "body"), _malformed_events(), ids=lambda c: str(c)[:30])
async def test_malformed_event_is_acknowledged_and_recorded_as_rejected(
    world: SlackWorld, case: str, body: dict[str, Any]
) -> None:
    assert await world.post(body) == 200, case
    assert world.intake.inbounds == []
    assert len(world.intake.rejected) == 1


async def test_interactivity_and_commands_nobody_handles_get_200(world: SlackWorld) -> None:
    no_actions = p.block_action()
    del no_actions["actions"]
    forms = [
        {"payload": json.dumps(p.view("view_closed"))},
        {"payload": json.dumps(p.view("view_submission"))},
        {"payload": json.dumps(no_actions)},
        {"payload": json.dumps(p.block_action() | {"actions": None})},
        {"payload": "{not json"},
        p.slash_command("", "/other"),
        {k: v for k, v in p.slash_command("memory").items() if k != "user_id"},
    ]
    statuses = [(await world.submit(form))[0] for form in forms]
    assert statuses == [200] * len(forms)


async def test_rejections_are_counted_in_metrics_and_listed_by_the_inspector(
    world: SlackWorld,
) -> None:
    dm = p.message("hi", channel="DUANN", channel_type="im")
    assert await world.post(p.callback(dm, authorizations=5)) == 200
    assert await world.post(p.callback(dm | {"ts": "nan"}, event_id="Ev2")) == 200
    runtime = world.runtime
    exposition = await runtime.metrics.exposition(runtime.engine, runtime.store.inbox)
    assert 'mnemo_events_rejected_total{platform="slack"} 2.0' in exposition.decode()
    inspector = build_inspector(runtime.inspector_services(), INSPECTOR_TOKEN)
    async with TestClient(TestServer(inspector)) as client:
        response = await client.get(
            "/api/events/rejected",
            params={"platform": "slack"},
            headers={"Authorization": f"Bearer {INSPECTOR_TOKEN}"},
        )
        assert response.status == 200
        listed = (await response.json())["rejected"]
    assert len(listed) == 2
    assert "ts" in listed[0]["error"]
    assert "authorizations" in listed[1]["error"]


async def test_unsigned_malformed_payload_is_refused_not_recorded(world: SlackWorld) -> None:
    body = p.callback(p.message("hi"), authorizations=5)
    assert await world.post(body, secret="not-the-secret") == 401
    assert world.intake.rejected == []


async def test_socket_mode_acknowledges_a_payload_bolt_cannot_read(
    tmp_path: Path, llm: FakeOpenAI, api: FakeSlackApi
) -> None:
    socket = FakeSocketMode()
    await socket.start()
    api.socket_url = socket.url
    try:
        async with slack_bot(
            tmp_path, llm, api, turns=False, app_token="xapp-test", signing_secret=""
        ) as world:
            await world.adapter.start()
            await socket.wait_connected()
            dm = p.message("hi", channel="DUANN", channel_type="im")
            broken = await socket.send_event(p.callback(dm, authorizations=5))
            await socket.wait_acked(broken)
            fine = await socket.send_event(p.callback(dm, event_id="Ev2"))
            await socket.wait_acked(fine)
            assert [i.text for i in world.intake.inbounds] == ["hi"]
            assert len(world.intake.rejected) == 1
    finally:
        await socket.stop()


async def test_reply_in_a_grid_workspace_uses_the_org_wide_install(
    tmp_path: Path, llm: FakeOpenAI, api: FakeSlackApi
) -> None:
    llm.push(tool_call("send_message", message="Hello, grid."))
    async with slack_bot(
        tmp_path, llm, api, bot_token="", client_id="111.222", client_secret="s3"
    ) as world:
        await KeyValueInstallationStore(world.runtime.store.kv).async_save(
            Installation(
                app_id="A1",
                enterprise_id=p.ORG,
                team_id=None,
                user_id="UINSTALLER",
                bot_token="xoxb-org-wide",
                bot_id="BBOT",
                bot_user_id=p.BOT_USER,
                is_enterprise_install=True,
            )
        )
        body = p.grid_callback(p.message("<@UBOT> hi", channel="GSECRET"), "TGRIDA")
        body["team_id"] = p.ORG
        assert await world.post(body) == 200
        [reply] = await world.replies(1, "GSECRET")
    assert reply["text"] == "Hello, grid."
    # The reply was posted, or streamed into the thread, with the org-wide install's token.
    [post] = [c for c in api.calls if c.method in ("chat.postMessage", "chat.startStream")]
    assert post.token == "xoxb-org-wide"
    assert only(world).workspace == "slack:TGRIDA"


async def test_workspaces_of_one_grid_org_never_read_each_others_memory(
    tmp_path: Path, llm: FakeOpenAI, api: FakeSlackApi
) -> None:
    secret = "the Q3 layoffs list"
    llm.push(
        tool_call("archival_memory_insert", content=f"Ann is drafting {secret}."),
        tool_call("send_message", message="Noted."),
    )
    async with slack_bot(tmp_path, llm, api) as world:
        dm = p.message(f"I'm drafting {secret}", channel="DUANN", channel_type="im")
        told = p.grid_callback(dm, "TGRIDA", "EvTold") | {"team_id": p.ORG}
        assert await world.post(told) == 200
        await world.replies(1, "DUANN")
        before = len(llm.chat_requests)
        llm.push(
            tool_call("archival_memory_search", query="Ann drafting"),
            tool_call("conversation_search", query="drafting"),
        )
        asked = p.message("what am I drafting?", channel="DUANN", channel_type="im")
        asked["ts"] = "1700000009.000100"
        other = p.grid_callback(asked, "TGRIDB", "EvAsked") | {"team_id": p.ORG}
        assert await world.post(other) == 200
        await world.replies(2, "DUANN")
    later = llm.chat_requests[before:]
    assert len(later) >= 3
    assert all("layoffs" not in json.dumps(r["messages"]) for r in later)
