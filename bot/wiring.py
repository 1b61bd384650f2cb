"""The composition root: builds every part from settings and hands back one runtime."""

from __future__ import annotations

import contextlib
import functools
import logging
import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from adapters.intake import ChannelTraffic
from adapters.slack import forget_assistant_threads
from bot.console import ConsoleServices
from bot.http import HttpServices
from bot.inspector.services import InspectorServices
from bot.metrics import Metrics
from bot.platform_services import PlatformServices
from bot.settings import Settings, SettingsError
from engine import (
    Agent,
    AgentMail,
    AgentRuntime,
    AgentsFile,
    AgentsFileError,
    ApprovalDesk,
    BackfillLedger,
    Embedder,
    EmbeddingError,
    Engine,
    HybridSearch,
    LLMClient,
    LocalEmbedder,
    McpServerRegistry,
    McpToolSource,
    MessagingTools,
    OpenAIEmbedder,
    PeerAgent,
    PipelineSettings,
    PlatformLinks,
    RegisteredTools,
    ReplyRatings,
    RetryPolicy,
    Sandbox,
    SandboxLimits,
    SourceLibrary,
    SourceLimits,
    Store,
    TokenCounter,
    ToolRegistry,
    TrafficGuard,
    UserMemoryService,
    apply_agents_file,
    ensure_agent,
    open_store,
    peer_agents,
    read_agents_file,
    start_mcp_tools,
    utcnow,
)
from jobs import JobScheduler, UserDataWithJobRecords, build_jobs

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Runtime:
    """Everything a running Mnemo process holds. Its parts get only the ports they use
    (``inspector_services``, ``platform_services``, ``http_services``,
    ``console_services``), never the runtime itself."""

    settings: Settings
    store: Store
    llm: LLMClient
    embedder: Embedder
    search: HybridSearch
    agents: AgentRuntime
    engine: Engine
    #: Users' control of their memory: see, export, forget (all or one item), and why.
    user_data: UserMemoryService
    default_agent: Agent
    #: Prometheus metrics of this process, fed by the engine's hooks.
    metrics: Metrics
    #: The traffic policy as the adapters apply it to agents talking in channels.
    channel_traffic: ChannelTraffic
    #: Background memory jobs; ``mnemo run`` starts them (MNEMO_JOBS_ENABLED).
    jobs: JobScheduler
    #: Decides tool calls waiting for approval (the platforms' Approve / Deny buttons).
    approvals: ApprovalDesk
    #: The agents file (MNEMO_AGENTS_FILE), applied at start, when one is set.
    agents_file: AgentsFile | None = None
    #: platform -> bot user id -> agent: whose messages adapters hear as an agent's.
    peer_agents: dict[str, dict[str, PeerAgent]] = field(default_factory=dict)
    #: The MCP servers' warm sessions, when any server is configured.
    mcp_tools: McpToolSource | None = None

    def inspector_services(self) -> InspectorServices:
        return InspectorServices(
            stores=self.store,
            search=self.search,
            turns=self.agents,
            intake=self.engine,
            jobs=self.jobs,
            rejected_events=self.store.inbox,
            default_agent_id=self.default_agent.id,
            explainer=self.user_data.explainer,
            forget_memory=self.user_data.forget_memory,
            channel_history=BackfillLedger(self.store.kv),
        )

    def ratings(self) -> ReplyRatings:
        """People's ratings of the agents' replies, kept and counted in the metrics."""
        return ReplyRatings(self.store, self.metrics)

    def platform_services(self) -> PlatformServices:
        return PlatformServices(
            intake=self.engine,
            register_platform=self.engine.register_platform,
            user_data=self.user_data,
            slack_installations=self.store.kv,
            deliveries=self.store.deliveries,
            default_agent=self.default_agent,
            agents_file=self.agents_file,
            peer_agents=self.peer_agents,
            channel_traffic=self.channel_traffic,
            channel_history=BackfillLedger(self.store.kv),
            ratings=self.ratings(),
            approvals=self.approvals,
            register_approvals=self.agents.approval_prompts.register,
            sources=SourceLibrary(
                self.store,
                self.embedder,
                limits=SourceLimits(max_bytes=self.settings.shared_file_max_bytes),
            ),
        )

    def console_services(self) -> ConsoleServices:
        return ConsoleServices(
            self.engine,
            self.store.agents,
            self.default_agent,
            approvals=self.approvals,
            register_approvals=self.agents.approval_prompts.register,
        )

    def http_services(self) -> HttpServices:
        return HttpServices(
            ping_store=self.store.ping,
            llm_configured=self.settings.llm_configured,
            model_problem=self.agents.model_server.readiness_problem,
            metrics_text=functools.partial(self.metrics.exposition, self.engine, self.store.inbox),
            inspector=self.inspector_services(),
        )

    async def aclose(self) -> None:
        await self.jobs.stop()
        await self.engine.stop()
        if self.mcp_tools is not None:
            await self.mcp_tools.aclose()
        await self.llm.aclose()
        await self.store.close()


async def build_embedder(settings: Settings) -> Embedder:
    """The configured embedding model; an endpoint model's size is asked of the server when
    neither MNEMO_EMBEDDING_DIMENSIONS nor the model's name tells it."""
    if settings.embedding_model == "local":
        return LocalEmbedder()
    try:
        return await OpenAIEmbedder.connect(
            model=settings.embedding_model,
            dimensions=settings.embedding_dimensions,
            base_url=settings.openai_base_url,
            api_key=settings.openai_api_key_value,
        )
    except EmbeddingError as exc:
        raise SettingsError(
            f"MNEMO_EMBEDDING_MODEL: {exc}: check OPENAI_BASE_URL and the model name, "
            "set MNEMO_EMBEDDING_DIMENSIONS to the model's vector size, "
            "or unset MNEMO_EMBEDDING_MODEL to use the embedded model"
        ) from None


def user_memory(
    store: Store,
    search: HybridSearch | None,
    links: PlatformLinks | None = None,
    embedder: Embedder | None = None,
) -> UserMemoryService:
    """A person's memory as they see, export and forget it: the store's records, the jobs'
    records, and what the Slack app keeps about their assistant threads (with ``search``,
    what followed a forgotten message is embedded again)."""
    data = UserDataWithJobRecords(store, search)
    data.also_forget(functools.partial(forget_assistant_threads, store.kv))
    return UserMemoryService(data, store, links, embedder, search)


def build_sandbox(settings: Settings) -> Sandbox:
    """The sandbox for custom tools, with the bot's data and secrets out of their sight."""
    return Sandbox(hidden_paths=[settings.data_dir, Path(".env")])


async def build_runtime(
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utcnow,
    llm: LLMClient | None = None,
) -> Runtime:
    """Open the store, connect the model, and assemble the engine (not yet started)."""
    settings.require_llm()
    embedder = await build_embedder(settings)
    store = await open_store(
        mongodb_uri=settings.mongodb_uri_value,
        data_dir=settings.data_dir,
        database=settings.mongodb_database,
        vector_dimensions=embedder.dimensions,
    )
    llm = llm or LLMClient(
        base_url=settings.openai_base_url,
        api_key=settings.openai_api_key_value,
        retry=RetryPolicy(
            total_seconds=settings.llm_timeout, request_timeout=settings.llm_request_timeout
        ),
        stream=settings.stream_replies,
    )
    tokens = functools.cache(TokenCounter)
    search = HybridSearch(store, embedder, clock=clock)
    custom_tools = RegisteredTools(
        ToolRegistry(store.tools), build_sandbox(settings), SandboxLimits()
    )
    agents_file = await apply_configured_agents(settings, store)
    mcp_tools = await start_mcp_servers(store)
    traffic = TrafficGuard(agents_file.traffic if agents_file else None)
    mail = AgentMail(store.agents, store.mail, store.lineage, traffic)
    messaging = MessagingTools(mail, store.agents)
    links = PlatformLinks()
    agents = AgentRuntime(
        store,
        llm,
        tokens,
        search,
        embedder,
        clock=clock,
        tool_providers=[custom_tools, messaging, *([mcp_tools] if mcp_tools else [])],
        links=links,
    )
    metrics = Metrics()
    metrics.watch_llm(llm)
    engine = Engine(
        store,
        agents,
        worker_limit=settings.workers,
        observer=metrics,
        platforms=[mail.port],
        links=links,
        settings=PipelineSettings(stop_deadline=settings.turn_stop_deadline),
        search=search,
    )
    mail.connect(engine.receive)
    approvals = ApprovalDesk(store, agents, engine, clock=clock)
    default_agent = await ensure_agent(
        store, settings.agent_name, model=settings.model, context_budget=settings.context_budget
    )
    return Runtime(
        settings=settings,
        store=store,
        llm=llm,
        embedder=embedder,
        search=search,
        agents=agents,
        engine=engine,
        user_data=user_memory(store, search, links, embedder),
        default_agent=default_agent,
        metrics=metrics,
        channel_traffic=ChannelTraffic(traffic),
        jobs=build_jobs(
            store,
            llm,
            embedder,
            settings.jobs,
            clock=clock,
            on_finished=metrics.job_run,
            approvals=approvals,
        ),
        agents_file=agents_file,
        mcp_tools=mcp_tools,
        peer_agents=await peer_agents(store.agents, agents_file),
        approvals=approvals,
    )


async def start_mcp_servers(store: Store) -> McpToolSource | None:
    """Warm sessions with every MCP server of the agents file or ``mnemo mcp add``; their
    secrets come from this process's environment."""
    servers = [server.spec for server in await McpServerRegistry(store.kv).all()]
    return await start_mcp_tools(servers, os.environ) if servers else None


async def apply_configured_agents(settings: Settings, store: Store) -> AgentsFile | None:
    """Read and apply MNEMO_AGENTS_FILE (creating or updating its agents), when it is set."""
    if settings.agents_file is None:
        return None
    try:
        agents_file = read_agents_file(settings.agents_file)
    except AgentsFileError as exc:
        raise SettingsError(f"MNEMO_AGENTS_FILE: {exc}") from None
    await apply_agents_file(
        store,
        agents_file,
        default_model=settings.model,
        default_budget=settings.context_budget,
    )
    return agents_file


@contextlib.asynccontextmanager
async def running(settings: Settings, *, llm: LLMClient | None = None) -> AsyncIterator[Runtime]:
    """A built runtime whose engine is started, stopped gracefully on exit. A model endpoint
    that does not answer is one warning now (a wrong OPENAI_BASE_URL), not a surprise at the
    first message."""
    runtime = await build_runtime(settings, llm=llm)
    try:
        if (model_problem := await runtime.agents.model_server.check()) is not None:
            log.warning(model_problem)
        await runtime.engine.start()
        yield runtime
    finally:
        await runtime.aclose()
