"""A whole Mnemo runtime wired from settings, for tests against the scripted model server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bot.settings import Settings
from bot.wiring import Runtime, running
from engine.audience import Audience, AudienceKind
from engine.llm import LLMClient
from engine.ports import ReceiveOutcome
from engine.records import Author, Inbound, Outbound, new_id, utcnow
from tests.fakes.openai_server import FakeOpenAI


@dataclass
class RecordingPort:
    """A platform that records what it is asked to post."""

    platform: str = "test"
    delivered: list[Outbound] = field(default_factory=list)

    async def deliver(self, reply: Outbound) -> str:
        self.delivered.append(reply)
        return f"ref-{len(self.delivered)}"

    @asynccontextmanager
    async def working(self, inbound: Inbound) -> AsyncIterator[None]:
        yield


def dm(user: str, workspace: str = "test:W1") -> Audience:
    return Audience(workspace, AudienceKind.DM, f"D-{user}", user)


def public(channel: str, workspace: str = "test:W1") -> Audience:
    return Audience(workspace, AudienceKind.PUBLIC, channel)


def private(channel: str, workspace: str = "test:W1") -> Audience:
    return Audience(workspace, AudienceKind.PRIVATE, channel)


@dataclass
class Bot:
    runtime: Runtime
    port: RecordingPort
    llm: FakeOpenAI

    async def say(
        self, audience: Audience, user: str, text: str, *, thread: str = "", respond: bool = True
    ) -> list[str]:
        """Send a message as ``user`` and return the replies it got."""
        before = len(self.port.delivered)
        message_id = new_id()
        result = await self.runtime.engine.receive(
            Inbound(
                platform="test",
                agent_id=self.runtime.default_agent.id,
                audience=audience,
                thread=thread,
                author=Author(user, user.capitalize()),
                text=text,
                event_id=message_id,
                message_ref=message_id,
                sent_at=utcnow(),
                respond=respond,
                channel_name=f"#{audience.channel}",
            )
        )
        assert result.outcome is ReceiveOutcome.ACCEPTED, result
        async with asyncio.timeout(30):
            await self.runtime.engine.wait_settled(result.inbox_id)
        return [r.text for r in self.port.delivered[before:]]


def settings_for(data_dir: Path, llm: FakeOpenAI, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "OPENAI_BASE_URL": llm.base_url,
        "OPENAI_API_KEY": "test-key",
        "MNEMO_DATA_DIR": data_dir,
        "MNEMO_LLM_TIMEOUT": 5.0,
        "MNEMO_HTTP_PORT": 0,
    }
    values.update(overrides)
    # model_validate reads neither the environment nor .env: tests see only these values.
    return Settings.model_validate(values)


@asynccontextmanager
async def bot_running(
    settings: Settings, llm: FakeOpenAI, *, client: LLMClient | None = None
) -> AsyncIterator[Bot]:
    async with running(settings, llm=client) as runtime:
        port = RecordingPort()
        runtime.engine.register_platform(port)
        yield Bot(runtime, port, llm)
