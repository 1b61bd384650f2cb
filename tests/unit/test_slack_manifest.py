"""The Slack app manifest asks for what the adapter uses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from adapters.slack import EVENTS_PATH, REDIRECT_PATH, SlackConfig
from adapters.slack.shortcuts import FORGET_MESSAGE, REMEMBER_MESSAGE

MANIFEST = Path(__file__).resolve().parents[2] / "manifest.yml"


def manifest() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(MANIFEST.read_text())
    return loaded


def test_manifest_scopes_are_the_ones_oauth_installs_request() -> None:
    config = SlackConfig(agent_id="a", bot_token="xoxb-1", signing_secret="s")
    assert sorted(manifest()["oauth_config"]["scopes"]["bot"]) == sorted(config.scopes)


def test_manifest_subscribes_to_the_events_the_adapter_handles() -> None:
    events = set(manifest()["settings"]["event_subscriptions"]["bot_events"])
    assert {"app_mention", "message.im", "message.channels", "message.groups"} <= events
    # A shared file deleted or unshared takes back what it taught.
    assert {"file_deleted", "file_unshared"} <= events


def test_manifest_urls_point_at_the_adapter_routes() -> None:
    data = manifest()
    assert data["settings"]["event_subscriptions"]["request_url"].endswith(EVENTS_PATH)
    assert data["settings"]["interactivity"]["request_url"].endswith(EVENTS_PATH)
    assert data["features"]["slash_commands"][0]["url"].endswith(EVENTS_PATH)
    assert data["oauth_config"]["redirect_urls"][0].endswith(REDIRECT_PATH)


def test_manifest_enables_the_assistant_home_tab_and_message_shortcuts() -> None:
    data = manifest()
    features = data["features"]
    assert features["app_home"]["home_tab_enabled"] is True
    assert "assistant_view" in features
    shortcuts = {s["callback_id"]: s["type"] for s in features["shortcuts"]}
    assert shortcuts == {REMEMBER_MESSAGE: "message", FORGET_MESSAGE: "message"}
    events = set(data["settings"]["event_subscriptions"]["bot_events"])
    assert {
        "app_home_opened",
        "assistant_thread_started",
        "assistant_thread_context_changed",
    } <= events
    assert data["settings"]["interactivity"]["is_enabled"] is True
