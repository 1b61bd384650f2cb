"""Settings of the Slack adapter, passed in by the composition root."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from adapters.policy import ChannelPolicies, ChannelPolicy
from adapters.serving import Serving

PLATFORM = "slack"
#: Slack's public Web API; tests point the clients at a local fake instead.
SLACK_API_URL = "https://slack.com/api/"


@dataclass(frozen=True, slots=True)
class SlackConfig:
    """One Slack app speaking as one agent.

    Single-workspace mode needs ``bot_token``; multi-workspace mode needs ``client_id`` and
    ``client_secret`` (installations then live in the key-value store). Socket Mode needs
    ``app_token``; HTTP mode needs ``signing_secret``.
    """

    agent_id: str
    bot_token: str = ""
    client_id: str = ""
    client_secret: str = ""
    app_token: str = ""
    signing_secret: str = ""
    default_policy: ChannelPolicy = ChannelPolicy.MENTION
    #: Policy overrides by channel id.
    channel_policies: Mapping[str, ChannelPolicy] = field(default_factory=dict)
    api_base_url: str = SLACK_API_URL
    #: Bot scopes requested by ``/slack/install`` (multi-workspace mode).
    scopes: tuple[str, ...] = (
        "app_mentions:read",
        "assistant:write",
        "channels:history",
        "channels:read",
        "chat:write",
        "commands",
        "files:read",
        "files:write",
        "groups:history",
        "groups:read",
        "im:history",
        "im:read",
        "im:write",
        "mpim:history",
        "mpim:read",
        "users:read",
    )
    #: Public base URL of the bot's HTTP server, for the OAuth redirect ("" lets Slack use the
    #: one registered with the app).
    redirect_uri: str = ""
    #: Whom the bot hears as agents, where it answers, what it learns of channels and files.
    serving: Serving = field(default_factory=Serving)

    def __post_init__(self) -> None:
        if not self.agent_id:
            raise ValueError("SlackConfig needs the id of the agent the bot speaks as")
        if not self.bot_token and not (self.client_id and self.client_secret):
            raise ValueError(
                "Slack needs SLACK_BOT_TOKEN (one workspace) or SLACK_CLIENT_ID and "
                "SLACK_CLIENT_SECRET (installable in many workspaces)"
            )
        if not self.app_token and not self.signing_secret:
            raise ValueError(
                "Slack needs SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP events)"
            )
        if self.app_token and not self.app_token.startswith("xapp-"):
            raise ValueError("SLACK_APP_TOKEN must be an app-level token starting with xapp-")

    @property
    def multi_workspace(self) -> bool:
        return not self.bot_token

    @property
    def socket_mode(self) -> bool:
        return bool(self.app_token)

    @property
    def policies(self) -> ChannelPolicies:
        return ChannelPolicies(self.default_policy, self.channel_policies)
