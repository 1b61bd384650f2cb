"""Slack payloads read at the edge, from payload dicts (no network): which installation an
event belongs to, what a message says when its text is empty, sane timestamps, and what
slack-bolt could not route."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.slack.content import plain_text, text_of
from adapters.slack.edge import screen
from adapters.slack.payloads import LegacyAttachment, MalformedEvent, read_callback, read_command
from adapters.slack.routing import Receiver, receiver_of
from adapters.slack.timestamps import sent_at_of
from tests.fakes import slack_payloads as p

RECEIVED = datetime(2026, 1, 1, tzinfo=UTC)


def receiver(body: dict[str, Any]) -> Receiver:
    return receiver_of(read_callback(body))


def test_single_workspace_event_belongs_to_its_workspace() -> None:
    assert receiver(p.callback(p.message())) == Receiver("T0001")


def test_connect_event_belongs_to_the_receiving_installation_on_each_side() -> None:
    said = p.message(channel="CSHARED")
    assert receiver(p.connect_callback(said, ours=True)).team == "T0001"
    assert receiver(p.connect_callback(said, ours=False)).team == "TPARTNER"


def test_org_wide_install_keeps_the_workspace_of_the_org() -> None:
    body = p.grid_callback(p.message(), "TGRIDA") | {"team_id": p.ORG}
    assert receiver(body) == Receiver("TGRIDA", "E1", org_wide=True)


def test_org_wide_install_never_takes_another_orgs_workspace() -> None:
    body = p.grid_callback(p.message(), "TGRIDA")
    body |= {
        "context_team_id": "TOTHER",
        "context_enterprise_id": "E2",
        "team_id": "TOTHER",
        "enterprise_id": "E2",
        "is_ext_shared_channel": True,
    }
    assert receiver(body) == Receiver("E1", "E1", org_wide=True)


def test_callback_without_authorizations_uses_its_context_team() -> None:
    body = p.callback(p.message(), context_team_id="T0002")
    del body["authorizations"]
    assert receiver(body).team == "T0002"


def test_callback_naming_no_team_is_malformed() -> None:
    body = p.callback(p.message(), team_id=None, context_team_id=None, authorizations=[])
    with pytest.raises(MalformedEvent, match="no team"):
        receiver(body)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("ts", "nan"),
        ("ts", "1e309"),
        ("ts", {"a": 1}),
        ("channel", 5),
        ("user", ["UANN"]),
        ("text", None),
        ("files", "plan.pdf"),
    ],
)
def test_wrong_typed_fields_are_malformed_and_named(field: str, value: object) -> None:
    body = p.callback(p.message() | {field: value})
    with pytest.raises(MalformedEvent, match=f"event.{field}"):
        read_callback(body)


def test_command_without_user_is_malformed() -> None:
    form = p.slash_command()
    del form["user_id"]
    with pytest.raises(MalformedEvent, match="user_id"):
        read_command(form)


def test_text_comes_from_rich_text_lists_quotes_and_links_when_empty() -> None:
    blocks = [
        {
            "type": "rich_text",
            "elements": [
                {
                    "type": "rich_text_section",
                    "elements": [
                        {"type": "user", "user_id": "UBOT"},
                        {"type": "text", "text": " see "},
                        {"type": "link", "url": "https://x.example"},
                        {"type": "emoji", "name": "tada"},
                    ],
                },
                {
                    "type": "rich_text_list",
                    "elements": [
                        {"type": "rich_text_section", "elements": [{"type": "text", "text": "a"}]},
                        {"type": "rich_text_section", "elements": [{"type": "text", "text": "b"}]},
                    ],
                },
            ],
        }
    ]
    assert text_of({"text": "", "blocks": blocks}) == ("<@UBOT> see https://x.example:tada:\na\nb")


def test_text_from_legacy_attachments_when_there_is_nothing_else() -> None:
    attachment: LegacyAttachment = {
        "pretext": "shared",
        "title": "Plan",
        "title_link": "https://x/plan",
    }
    assert text_of({"text": "", "attachments": [attachment]}) == "shared\nPlan\nhttps://x/plan"
    assert text_of({"attachments": [{"fallback": "only fallback"}]}) == "only fallback"


def test_rich_text_nested_beyond_reason_is_not_walked() -> None:
    block: dict[str, Any] = {"type": "text", "text": "deep"}
    for _ in range(50):
        block = {"type": "rich_text_section", "elements": [block]}
    assert text_of({"blocks": [block]}) == ""


def test_a_bare_mention_is_kept_as_the_mention() -> None:
    assert plain_text("<@UBOT>", "UBOT") == "<@UBOT>"
    assert plain_text("<@UBOT> hi &amp; bye", "UBOT") == "hi & bye"


def test_timestamps_in_the_future_are_clamped_and_old_ones_kept() -> None:
    tomorrow_and_more = (RECEIVED + timedelta(days=2)).timestamp()
    assert sent_at_of(f"{tomorrow_and_more:.6f}", RECEIVED) == RECEIVED
    assert sent_at_of("99999999999999.000100", RECEIVED) == RECEIVED
    assert sent_at_of("86400.000100", RECEIVED).year == 1970
    assert sent_at_of("-86400.000100", RECEIVED).year == 1969
    assert sent_at_of("-9999999999999999.1", RECEIVED).year == 1900
    skewed = (RECEIVED + timedelta(hours=2)).timestamp()
    assert sent_at_of(f"{skewed:.6f}", RECEIVED) > RECEIVED


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"type": "event_callback", "authorizations": 5}, "authorizations is a int"),
        ({"type": "event_callback", "event": {"type": 5}}, "event.type is a int"),
        ({"type": "event_callback"}, "without event.type"),
        ({"type": "block_actions", "actions": [{}]}, "without actions.0.action_id"),
        ({"type": "view_closed", "view": {"type": "modal"}}, "without view.callback_id"),
        ({"type": "block_actions", "team": ["T1"]}, "team is a list"),
        ({"command": None}, "command is a NoneType"),
    ],
)
def test_what_bolt_could_not_route_is_named(body: dict[str, Any], reason: str) -> None:
    assert reason in (screen(body) or "")


def test_payloads_nested_too_deeply_are_screened_out() -> None:
    deep: Any = []
    for _ in range(100):
        deep = [deep]
    assert "nested" in (screen({"type": "event_callback", "x": deep}) or "")
    assert screen(p.event_payloads()["blocks_only"]) is None
