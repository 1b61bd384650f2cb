"""``mnemo run`` against local fakes of Slack and Discord: the real process (settings, signals,
platforms, HTTP server, shutdown), its platform endpoints read from the environment.

    MNEMO_TEST_SLACK_API_URL=http://127.0.0.1:N/api/ python -m tests.e2e.fake_platforms_run

``MNEMO_TEST_DISCORD_API_BASE`` and ``MNEMO_TEST_DISCORD_GATEWAY_URL`` point Discord bots at a
``FakeDiscord``. Unset, a platform talks to the public service.
"""

from __future__ import annotations

import asyncio
import os
import sys

from adapters.slack import SLACK_API_URL
from bot.platforms import Endpoints
from bot.process import serve
from bot.settings import SettingsError, load_settings


def fake_endpoints() -> Endpoints:
    env = os.environ
    return Endpoints(
        slack_api_url=env.get("MNEMO_TEST_SLACK_API_URL") or SLACK_API_URL,
        discord_api_base=env.get("MNEMO_TEST_DISCORD_API_BASE") or None,
        discord_gateway_url=env.get("MNEMO_TEST_DISCORD_GATEWAY_URL") or None,
    )


def main() -> int:
    try:
        return asyncio.run(serve(load_settings(), endpoints=fake_endpoints()))
    except SettingsError as exc:
        print(f"mnemo: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
