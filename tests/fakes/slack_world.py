"""The production Slack app end to end, for scenario and fuzz tests: a whole runtime (the real
engine and store), the Slack adapter on a local HTTP server receiving signed requests, the fake
Slack Web API, and a recording of what crossed the engine's intake."""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from adapters.slack import SlackAdapter, SlackConfig, SlackDelivery
from adapters.slack.clients import WorkspaceClients
from bot.wiring import Runtime, build_runtime, running
from engine import SourceLibrary
from engine.audience import Audience, AudienceKind
from engine.ports import IntakePort, ReceiveResult
from engine.records import JSON, Author, Inbound, utcnow
from tests.fakes import slack_payloads
from tests.fakes.memory_items import Remembered, remember_birthday
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack_api import FakeSlackApi, signed_form, signed_headers
from tests.harness import settings_for

SECRET = "scenario-signing-secret"
TEAM = "T0001"
#: Long enough for a turn on a busy machine; each wait ends as soon as its condition holds.
TURN_S = 30.0


@dataclass
class IntakeRecording:
    """The engine's intake, passed through, keeping what the adapter handed it."""

    port: IntakePort
    received: list[tuple[Inbound, ReceiveResult]] = field(default_factory=list)
    rejected: list[tuple[str, JSON, str]] = field(default_factory=list)

    async def receive(self, inbound: Inbound) -> ReceiveResult:
        result = await self.port.receive(inbound)
        self.received.append((inbound, result))
        return result

    async def reject(self, platform: str, raw: JSON, error: str) -> None:
        await self.port.reject(platform, raw, error)
        self.rejected.append((platform, raw, error))

    @property
    def inbounds(self) -> list[Inbound]:
        return [inbound for inbound, _ in self.received]


@dataclass
class SlackWorld:
    api: FakeSlackApi
    llm: FakeOpenAI
    runtime: Runtime
    http: aiohttp.ClientSession
    base: str
    intake: IntakeRecording
    adapter: SlackAdapter
    _events: int = 0

    async def post(self, body: JSON, *, secret: str = SECRET, retry: int = 0) -> int:
        """POST an Events API body, signed as Slack signs it; the HTTP status."""
        return await self.post_raw(json.dumps(body), "application/json", secret=secret, retry=retry)

    async def post_raw(
        self, raw: str, content_type: str, *, secret: str = SECRET, retry: int = 0
    ) -> int:
        headers = {"Content-Type": content_type, **signed_headers(secret, raw)}
        if retry:
            headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        async with self.http.post(f"{self.base}/slack/events", data=raw, headers=headers) as r:
            await r.read()
            return r.status

    async def send(
        self,
        event: dict[str, Any],
        *,
        event_id: str = "",
        secret: str = SECRET,
        retry: int = 0,
        **envelope: Any,
    ) -> int:
        """Send ``event`` in a callback of ``TEAM`` (``envelope`` adds or replaces fields)."""
        if not event_id:
            self._events += 1
            event_id = f"Ev{self._events}"
        body = {
            "type": "event_callback",
            "team_id": TEAM,
            "api_app_id": "A1",
            "event_id": event_id,
            "event": event,
            **envelope,
        }
        return await self.post(body, secret=secret, retry=retry)

    async def submit(self, form: dict[str, str]) -> tuple[int, str]:
        """POST a form (a slash command, or an interactive ``payload``), signed."""
        raw, headers = signed_form(SECRET, form)
        async with self.http.post(f"{self.base}/slack/events", data=raw, headers=headers) as r:
            return r.status, await r.text()

    async def interact(self, form: dict[str, str]) -> dict[str, Any]:
        status, text = await self.submit(form)
        assert status == 200
        return json.loads(text) if text else {}

    async def replies(self, count: int, channel: str | None = None) -> list[dict[str, Any]]:
        """Wait until ``count`` messages were posted (to ``channel``) and none is still being
        streamed, then return them."""

        def arrived() -> bool:
            posted = self.api.posted(channel)
            return len(posted) >= count and not any(m.get("streaming") for m in posted)

        await self.api.wait_until(arrived, within=TURN_S)
        return self.api.posted(channel)

    async def quiet(self, seconds: float = 0.5) -> None:
        """Let anything still in flight land, so a test can assert nothing more happened."""
        await asyncio.sleep(seconds)


@asynccontextmanager
async def collection_api() -> AsyncIterator[FakeSlackApi]:
    """The fake Web API knowing the users and channels of ``tests.fakes.slack_payloads``."""
    fake = FakeSlackApi(
        team_id=slack_payloads.TEAM,
        users=slack_payloads.USERS,
        channels=slack_payloads.CHANNELS,
        assistant_threads=False,
    )
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


@asynccontextmanager
async def collection_bot(tmp_path: Path, *, turns: bool = True) -> AsyncIterator[SlackWorld]:
    """``slack_bot`` against the fake OpenAI server and ``collection_api``."""
    async with (
        FakeOpenAI() as llm,
        collection_api() as api,
        slack_bot(tmp_path, llm, api, turns=turns) as world,
    ):
        yield world


@asynccontextmanager
async def slack_bot(
    tmp_path: Path,
    llm: FakeOpenAI,
    api: FakeSlackApi,
    *,
    turns: bool = True,
    mnemo: dict[str, object] | None = None,
    **config: Any,
) -> AsyncIterator[SlackWorld]:
    """The Slack app of a runtime; without ``turns`` the engine stores messages but runs no
    turn (what the intake kept is all a test looks at). ``mnemo`` sets Mnemo's settings (by
    environment name), ``config`` the Slack adapter's."""
    runtime = await build_runtime(settings_for(tmp_path, llm, **(mnemo or {})))
    try:
        if turns:
            await runtime.engine.start()
        intake = IntakeRecording(runtime.engine)
        settings: dict[str, Any] = {
            "agent_id": runtime.default_agent.id,
            "bot_token": "xoxb-scenario",
            "signing_secret": SECRET,
            "api_base_url": api.base_url,
            **config,
        }
        adapter = SlackAdapter(
            SlackConfig(**settings),
            intake,
            runtime.user_data,
            runtime.store.kv,
            runtime.store.deliveries,
            ratings=runtime.ratings(),
            sources=SourceLibrary(runtime.store, runtime.embedder),
            approvals=runtime.approvals,
        )
        runtime.engine.register_platform(adapter.platform_port)
        if adapter.approvals is not None:
            runtime.agents.approval_prompts.register(adapter.approvals)
        app = web.Application()
        adapter.mount(app)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        base = f"http://127.0.0.1:{runner.addresses[0][1]}"
        try:
            async with aiohttp.ClientSession() as http:
                yield SlackWorld(api, llm, runtime, http, base, intake, adapter)
        finally:
            await adapter.stop()
            await runner.cleanup()
    finally:
        await runtime.aclose()


@asynccontextmanager
async def delivering_runtime(api: FakeSlackApi, llm: FakeOpenAI) -> AsyncIterator[Runtime]:
    """A whole runtime on the embedded store (no jobs) whose replies go to ``api`` through
    Slack's delivery port alone, without the Slack app: what delivery benchmarks measure."""
    await api.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            settings = settings_for(Path(tmp), llm, MNEMO_JOBS_ENABLED=False)
            async with running(settings) as runtime:
                config = SlackConfig(
                    agent_id=runtime.default_agent.id,
                    bot_token="xoxb-bench",
                    signing_secret="bench",
                    api_base_url=api.base_url,
                )
                port = SlackDelivery(WorkspaceClients(config), runtime.store.deliveries)
                runtime.engine.register_platform(port)
                yield runtime
    finally:
        await api.stop()


async def answer_in_thread(runtime: Runtime, audience: Audience, thread: str, text: str) -> None:
    """``text`` from a person, in ``thread`` of ``audience``'s channel, straight into the
    engine; returns once its turn settled (its replies delivered)."""
    result = await runtime.engine.receive(
        Inbound(
            platform="slack",
            agent_id=runtime.default_agent.id,
            audience=audience,
            thread=thread,
            author=Author("UBENCH", "Bench"),
            text=text,
            event_id=f"Ev{thread}",
            message_ref=thread,
            sent_at=utcnow(),
        )
    )
    async with asyncio.timeout(60):
        await runtime.engine.wait_settled(result.inbox_id)


#: When Ann told the agent her birthday in #general (``remember_anns_birthday``).
ANNS_PUBLIC_TS = "1700000001.000100"


async def remember_anns_birthday(world: SlackWorld) -> Remembered:
    """The store as turns would have left it after Ann told the agent her birthday in
    #general and, with a secret, in her DM (``tests.fakes.memory_items.remember_birthday``)."""
    workspace = f"slack:{TEAM}"
    return await remember_birthday(
        world.runtime.store,
        world.runtime.default_agent.id,
        Audience(workspace, AudienceKind.PUBLIC, "CGEN"),
        Audience(workspace, AudienceKind.DM, "DUANN", "UANN"),
        user="UANN",
        name="Ann",
        public_ref=ANNS_PUBLIC_TS,
        dm_ref="1700000002.000100",
    )
