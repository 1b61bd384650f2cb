"""Mnemo's agent engine: the one front door for the bot, the adapters and the jobs.

Everything another package may use is named here, in ``__all__``; every module behind it is
private to the engine and may change shape without notice. Inside the engine, modules import
each other by their own paths, never through this file.
"""

from engine.agent.context import ContextOverflow
from engine.agent.creation import AgentExists, create_agent, ensure_agent
from engine.agent.memory import BlockView, MemoryEditError, TurnMemory, describe_scope
from engine.agent.passes import AgentPass, PassReport, run_pass
from engine.agent.provenance import link_derived
from engine.agent.runtime import AgentRuntime, ToolTrial
from engine.agent.summarizer import Summarizer
from engine.approvals import (
    ApprovalAnswer,
    ApprovalDesk,
    ApprovalPort,
    DecisionOutcome,
    PressedIn,
    approvers_see,
)
from engine.audience import Audience, AudienceKind, Scope, ScopeKind
from engine.backoff import Backoff
from engine.citations import PlatformLinks, describe_source
from engine.config import (
    AgentChangeError,
    AgentDefinition,
    AgentsFile,
    AgentsFileError,
    ApplyReport,
    PlatformSpec,
    apply_agents_file,
    attach_tool,
    detach_tool,
    peer_agents,
    read_agents_file,
)
from engine.core import Engine
from engine.embeddings import Embedder, EmbeddingError, LocalEmbedder, OpenAIEmbedder
from engine.forgetting import forget_lost_sources
from engine.history import BackfillLedger, BackfillProgress
from engine.llm import (
    ChatModel,
    ChatRequest,
    Completion,
    LLMClient,
    LLMError,
    LLMRejected,
    LLMUnavailable,
    RetryPolicy,
    ToolChoice,
)
from engine.messaging import AgentMail, MessagingTools, PeerAgent, TrafficGuard
from engine.observer import EngineObserver, Stage, TurnEnd
from engine.pipeline import PipelineSettings
from engine.ports import (
    DeliveryError,
    FeedbackPort,
    ForgetReport,
    IntakePort,
    LinkPort,
    MemoryItem,
    PlatformMessage,
    PlatformPort,
    ReceiveOutcome,
    ReceiveResult,
    ReplyStream,
    Source,
    StreamingPort,
    UserMemory,
    UserMemoryReport,
)
from engine.ratings import ReplyRatings
from engine.records import (
    JSON,
    Agent,
    Author,
    Block,
    BlockLabel,
    ConversationKey,
    Inbound,
    InboundKind,
    Message,
    Outbound,
    Passage,
    Role,
    Summary,
    ToolCall,
    new_id,
    utcnow,
)
from engine.search import HybridSearch
from engine.sources.citation import cite_chunk
from engine.sources.formats import PARSERS
from engine.sources.library import (
    IngestProgress,
    IngestResult,
    IngestStatus,
    SourceLibrary,
    SourceLimits,
    SourceTarget,
)
from engine.sources.tags import SOURCE_TAG
from engine.store import open_store
from engine.store.approvals import ApprovalRequest, ApprovalStatus, ApprovalStore
from engine.store.feedback import Feedback, FeedbackStore, Rating
from engine.store.lineage import Derived, person_source
from engine.store.mongo import MongoUnreachableError
from engine.store.protocol import (
    AgentStore,
    BlockStore,
    ConversationActivity,
    KeyValueStore,
    MessageStore,
    PassageStore,
    RecordFilter,
    Scored,
    Store,
)
from engine.store.queues import InboxStore
from engine.store.sources import DocumentShare, SourceChunk, SourceDocument, SourceStore
from engine.store.state import (
    SETTLED,
    DeliveryLedger,
    DeliveryLedgerStore,
    JobBackoff,
    JobCheckpoint,
    JobStateStore,
    RunRecord,
    RunStatus,
    TargetState,
)
from engine.tokens import TokenCounter
from engine.tools.approval import ApprovalPrompter, ApprovalPrompts
from engine.tools.base import FunctionTool, Tool, ToolContext, ToolError, ToolOutcome
from engine.tools.builtin import ARCHIVAL_INSERT, BUILTIN_TOOLS
from engine.tools.custom import ToolDefinitionError, ToolRegistry, register_tool
from engine.tools.mcp import (
    McpServerError,
    McpServerRegistry,
    McpServerSpec,
    McpToolSource,
    every_tool_of,
    start_mcp_tools,
)
from engine.tools.sandbox import RegisteredTools, Sandbox, SandboxLimits
from engine.user_data import UserDataService, render_forget, render_report
from engine.user_edits import InvalidCorrection
from engine.user_memory import UserMemoryService
from engine.why import MemoryExplainer, render_why

__all__ = [
    "ARCHIVAL_INSERT",
    "BUILTIN_TOOLS",
    "JSON",
    "PARSERS",
    "SETTLED",
    "SOURCE_TAG",
    "Agent",
    "AgentChangeError",
    "AgentDefinition",
    "AgentExists",
    "AgentMail",
    "AgentPass",
    "AgentRuntime",
    "AgentStore",
    "AgentsFile",
    "AgentsFileError",
    "ApplyReport",
    "ApprovalAnswer",
    "ApprovalDesk",
    "ApprovalPort",
    "ApprovalPrompter",
    "ApprovalPrompts",
    "ApprovalRequest",
    "ApprovalStatus",
    "ApprovalStore",
    "Audience",
    "AudienceKind",
    "Author",
    "BackfillLedger",
    "BackfillProgress",
    "Backoff",
    "Block",
    "BlockLabel",
    "BlockStore",
    "BlockView",
    "ChatModel",
    "ChatRequest",
    "Completion",
    "ContextOverflow",
    "ConversationActivity",
    "ConversationKey",
    "DecisionOutcome",
    "DeliveryError",
    "DeliveryLedger",
    "DeliveryLedgerStore",
    "Derived",
    "DocumentShare",
    "Embedder",
    "EmbeddingError",
    "Engine",
    "EngineObserver",
    "Feedback",
    "FeedbackPort",
    "FeedbackStore",
    "ForgetReport",
    "FunctionTool",
    "HybridSearch",
    "Inbound",
    "InboundKind",
    "InboxStore",
    "IngestProgress",
    "IngestResult",
    "IngestStatus",
    "IntakePort",
    "InvalidCorrection",
    "JobBackoff",
    "JobCheckpoint",
    "JobStateStore",
    "KeyValueStore",
    "LLMClient",
    "LLMError",
    "LLMRejected",
    "LLMUnavailable",
    "LinkPort",
    "LocalEmbedder",
    "McpServerError",
    "McpServerRegistry",
    "McpServerSpec",
    "McpToolSource",
    "MemoryEditError",
    "MemoryExplainer",
    "MemoryItem",
    "Message",
    "MessageStore",
    "MessagingTools",
    "MongoUnreachableError",
    "OpenAIEmbedder",
    "Outbound",
    "PassReport",
    "Passage",
    "PassageStore",
    "PeerAgent",
    "PipelineSettings",
    "PlatformLinks",
    "PlatformMessage",
    "PlatformPort",
    "PlatformSpec",
    "PressedIn",
    "Rating",
    "ReceiveOutcome",
    "ReceiveResult",
    "RecordFilter",
    "RegisteredTools",
    "ReplyRatings",
    "ReplyStream",
    "RetryPolicy",
    "Role",
    "RunRecord",
    "RunStatus",
    "Sandbox",
    "SandboxLimits",
    "Scope",
    "ScopeKind",
    "Scored",
    "Source",
    "SourceChunk",
    "SourceDocument",
    "SourceLibrary",
    "SourceLimits",
    "SourceStore",
    "SourceTarget",
    "Stage",
    "Store",
    "StreamingPort",
    "Summarizer",
    "Summary",
    "TargetState",
    "TokenCounter",
    "Tool",
    "ToolCall",
    "ToolChoice",
    "ToolContext",
    "ToolDefinitionError",
    "ToolError",
    "ToolOutcome",
    "ToolRegistry",
    "ToolTrial",
    "TrafficGuard",
    "TurnEnd",
    "TurnMemory",
    "UserDataService",
    "UserMemory",
    "UserMemoryReport",
    "UserMemoryService",
    "apply_agents_file",
    "approvers_see",
    "attach_tool",
    "cite_chunk",
    "create_agent",
    "describe_scope",
    "describe_source",
    "detach_tool",
    "ensure_agent",
    "every_tool_of",
    "forget_lost_sources",
    "link_derived",
    "new_id",
    "open_store",
    "peer_agents",
    "person_source",
    "read_agents_file",
    "register_tool",
    "render_forget",
    "render_report",
    "render_why",
    "run_pass",
    "start_mcp_tools",
    "utcnow",
]
