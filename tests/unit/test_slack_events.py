"""Slack event payloads -> what the engine gets through the intake chain, from payload dicts
(no network)."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.policy import ChannelPolicies, ChannelPolicy
from adapters.slack.events import (
    MalformedEvent,
    arrival_of,
    audience_kind_of,
    parse_event,
    team_of,
    workspace_id,
)
from engine.audience import AudienceKind, Scope
from engine.records import Inbound, InboundKind
from tests.unit.intake_doubles import through_intake

BOT = "UBOT"


def callback(event: dict[str, Any], event_id: str = "Ev1") -> dict[str, Any]:
    return {"type": "event_callback", "team_id": "T1", "event_id": event_id, "event": event}


def message(**fields: Any) -> dict[str, Any]:
    return {
        "type": "message",
        "channel": "C1",
        "channel_type": "channel",
        "user": "U1",
        "text": "hello",
        "ts": "1700000000.000100",
        **fields,
    }


def inbound_of(
    event: dict[str, Any],
    kind: AudienceKind,
    policy: ChannelPolicy = ChannelPolicy.MENTION,
) -> Inbound | None:
    parsed = parse_event(callback(event), BOT)
    assert parsed is not None
    arrival = arrival_of(parsed, agent_id="a1", audience_kind=kind, author_name="Ann")
    return through_intake(arrival, policies=ChannelPolicies(policy))


def heard(event: dict[str, Any]) -> Inbound | None:
    """What the engine gets for ``event`` in a public channel where every message is heard."""
    parsed = parse_event(callback(event), BOT)
    if parsed is None:
        return None
    arrival = arrival_of(parsed, agent_id="a1", audience_kind=AudienceKind.PUBLIC, author_name="")
    return through_intake(arrival, policies=ChannelPolicies(ChannelPolicy.OPEN))


def test_dm_is_a_dm_audience_and_top_level_dms_are_one_conversation() -> None:
    inbound = inbound_of(message(channel="D1", channel_type="im"), AudienceKind.DM)
    assert inbound is not None
    assert inbound.audience.kind is AudienceKind.DM
    assert inbound.audience.user == "U1"
    assert inbound.workspace == "slack:T1"
    assert inbound.thread == ""
    assert inbound.respond
    assert inbound.event_id == "Ev1"
    assert inbound.message_ref == "1700000000.000100"


def test_dm_thread_is_its_own_conversation() -> None:
    inbound = inbound_of(
        message(channel="D1", channel_type="im", thread_ts="1699.1"), AudienceKind.DM
    )
    assert inbound is not None
    assert inbound.thread == "1699.1"


def test_channel_mention_starts_a_thread_on_the_message_and_strips_the_mention() -> None:
    inbound = inbound_of(
        {
            "type": "app_mention",
            "channel": "C1",
            "user": "U1",
            "ts": "1700.5",
            "text": "<@UBOT> what is &lt;x&gt; &amp; y?",
        },
        AudienceKind.PUBLIC,
    )
    assert inbound is not None
    assert inbound.thread == "1700.5"
    assert inbound.text == "what is <x> & y?"
    assert inbound.respond
    assert inbound.mentions == (BOT,)
    assert inbound.audience.kind is AudienceKind.PUBLIC


def test_mention_and_message_event_for_one_ts_build_the_same_dedupe_key() -> None:
    text = "<@UBOT> hi"
    a = inbound_of(
        {"type": "app_mention", "channel": "C1", "user": "U1", "ts": "5.5", "text": text},
        AudienceKind.PUBLIC,
    )
    b = inbound_of(message(ts="5.5", text=text), AudienceKind.PUBLIC)
    assert a is not None
    assert b is not None
    key = (a.platform, a.channel, a.message_ref, a.kind)
    assert key == (b.platform, b.channel, b.message_ref, b.kind)
    assert a.thread == b.thread


def test_mention_policy_ignores_unaddressed_channel_messages() -> None:
    assert inbound_of(message(), AudienceKind.PUBLIC) is None


def test_listen_policy_remembers_without_answering() -> None:
    inbound = inbound_of(message(), AudienceKind.PUBLIC, ChannelPolicy.LISTEN)
    assert inbound is not None
    assert not inbound.respond


def test_open_policy_answers_every_message() -> None:
    inbound = inbound_of(message(), AudienceKind.PUBLIC, ChannelPolicy.OPEN)
    assert inbound is not None
    assert inbound.respond


def test_private_channel_audience_is_the_channel() -> None:
    inbound = inbound_of(
        message(channel="G1", channel_type="group"), AudienceKind.PRIVATE, ChannelPolicy.OPEN
    )
    assert inbound is not None
    assert inbound.audience.kind is AudienceKind.PRIVATE
    assert inbound.audience.write_scope == Scope.private("G1")


@pytest.mark.parametrize(
    ("channel_type", "kind"),
    [
        ("im", AudienceKind.DM),
        ("mpim", AudienceKind.PRIVATE),
        ("group", AudienceKind.PRIVATE),
        ("channel", AudienceKind.PUBLIC),
        ("", None),
    ],
)
def test_channel_type_implies_audience(channel_type: str, kind: AudienceKind | None) -> None:
    assert audience_kind_of(channel_type) is kind


def test_edit_becomes_an_edit_of_the_original_ts() -> None:
    event = message(
        subtype="message_changed",
        message={"type": "message", "user": "U1", "text": "new", "ts": "9.9"},
        previous_message={"type": "message", "user": "U1", "text": "old", "ts": "9.9"},
    )
    del event["user"]
    inbound = inbound_of(event, AudienceKind.PUBLIC, ChannelPolicy.LISTEN)
    assert inbound is not None
    assert inbound.kind is InboundKind.EDIT
    assert inbound.message_ref == "9.9"
    assert inbound.text == "new"
    assert not inbound.respond


def test_unfurl_edit_with_unchanged_text_is_ignored() -> None:
    event = message(
        subtype="message_changed",
        message={"type": "message", "user": "U1", "text": "same", "ts": "9.9"},
        previous_message={"type": "message", "user": "U1", "text": "same", "ts": "9.9"},
    )
    assert heard(event) is None


def test_deletion_becomes_a_delete() -> None:
    event = message(
        subtype="message_deleted",
        deleted_ts="9.9",
        previous_message={"type": "message", "user": "U1", "text": "old", "ts": "9.9"},
    )
    inbound = inbound_of(event, AudienceKind.DM)
    assert inbound is not None
    assert inbound.kind is InboundKind.DELETE
    assert inbound.message_ref == "9.9"
    assert inbound.author.id == "U1"


def test_files_are_described_as_attachments() -> None:
    event = message(
        subtype="file_share",
        channel_type="im",
        files=[{"id": "F1", "name": "plan.pdf", "permalink": "https://x/plan"}],
    )
    inbound = inbound_of(event, AudienceKind.DM)
    assert inbound is not None
    assert inbound.attachments == ("plan.pdf (https://x/plan)",)


@pytest.mark.parametrize(
    "event",
    [
        message(user=BOT),
        message(bot_id="B2", user="U9"),
        message(subtype="bot_message", bot_id="B2"),
        message(subtype="channel_join"),
        message(subtype="channel_topic"),
    ],
)
def test_own_bot_and_system_messages_are_ignored(event: dict[str, Any]) -> None:
    assert heard(event) is None


def test_integration_message_naming_only_its_bot_is_ignored_not_malformed() -> None:
    event = message(subtype="bot_message", bot_id="B7")
    del event["user"]
    assert heard(event) is None


def test_deleting_the_bots_own_message_is_ignored() -> None:
    event = message(
        subtype="message_deleted",
        deleted_ts="9.9",
        previous_message={"type": "message", "user": BOT, "bot_id": "B1", "ts": "9.9"},
    )
    assert heard(event) is None


def test_event_without_channel_is_malformed() -> None:
    with pytest.raises(MalformedEvent):
        parse_event(callback({"type": "message", "user": "U1", "ts": "1.1"}), BOT)


def test_message_without_ts_is_malformed() -> None:
    with pytest.raises(MalformedEvent):
        parse_event(callback({"type": "message", "channel": "C1", "user": "U1"}), BOT)


def test_workspace_ids_round_trip_and_never_collide_with_other_platforms() -> None:
    assert workspace_id("T9") == "slack:T9"
    assert team_of("slack:T9") == "T9"
    with pytest.raises(ValueError, match="not a Slack workspace"):
        team_of("discord:123")
