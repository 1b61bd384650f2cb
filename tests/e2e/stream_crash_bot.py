"""The crash bot delivering through Slack's platform port, replies streamed into threads, to the
fake Slack Web API at ``MNEMO_TEST_SLACK_API_URL``.

    python -m tests.e2e.stream_crash_bot      # prints {"port": N} once it accepts messages
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from adapters.slack import SlackConfig, SlackDelivery
from adapters.slack.clients import WorkspaceClients
from bot.wiring import Runtime
from engine.ports import PlatformPort
from tests.e2e.crash_bot import serve

TEAM = "T0001"


@asynccontextmanager
async def slack_port(runtime: Runtime) -> AsyncIterator[PlatformPort]:
    config = SlackConfig(
        agent_id=runtime.default_agent.id,
        bot_token="xoxb-crash",
        signing_secret="crash-test",
        api_base_url=os.environ["MNEMO_TEST_SLACK_API_URL"],
    )
    yield SlackDelivery(WorkspaceClients(config), runtime.store.deliveries)


if __name__ == "__main__":
    asyncio.run(serve(slack_port, workspace=f"slack:{TEAM}"))
