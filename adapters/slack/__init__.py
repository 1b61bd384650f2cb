"""Slack: events -> the intake chain -> the engine, replies -> messages (slack-bolt, slack_sdk).

The composition root builds a ``SlackAdapter`` from a ``SlackConfig``, registers its
``platform_port`` with the engine, then calls ``start()`` (Socket Mode) and/or ``mount(app)``
(HTTP events and OAuth install pages on the bot's aiohttp server).
"""

from adapters.policy import ChannelPolicy
from adapters.slack.adapter import EVENTS_PATH, INSTALL_PATH, REDIRECT_PATH, SlackAdapter
from adapters.slack.assistant import forget_assistant_threads
from adapters.slack.config import PLATFORM, SLACK_API_URL, SlackConfig
from adapters.slack.delivery import SlackDelivery
from adapters.slack.installations import KeyValueInstallationStore, KeyValueOAuthStateStore

__all__ = [
    "EVENTS_PATH",
    "INSTALL_PATH",
    "PLATFORM",
    "REDIRECT_PATH",
    "SLACK_API_URL",
    "ChannelPolicy",
    "KeyValueInstallationStore",
    "KeyValueOAuthStateStore",
    "SlackAdapter",
    "SlackConfig",
    "SlackDelivery",
    "forget_assistant_threads",
]
