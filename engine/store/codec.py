"""Records to and from JSON-able dicts, so every store writes the same shape.

Datetimes become ISO 8601 strings in UTC with a fixed microsecond precision, so they sort as
text in the same order as in time. Tuples become lists; enums become their values.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from engine.audience import Audience, AudienceKind, Scope
from engine.records import (
    JSON,
    Agent,
    Author,
    Block,
    Inbound,
    InboundKind,
    Message,
    Outbound,
    Passage,
    Role,
    Summary,
    ToolCall,
    ToolRule,
)


def encode_datetime(value: datetime) -> str:
    """A sortable UTC timestamp; naive datetimes are taken to be UTC already."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def decode_datetime(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _strings(values: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in values or ())


# ---------------------------------------------------------------------------------------------
# Agents


def tool_rule_to_doc(rule: ToolRule) -> JSON:
    return {
        "kind": rule.kind,
        "tool": rule.tool,
        "children": list(rule.children),
        "outcomes": {k: list(v) for k, v in rule.outcomes.items()},
        "limit": rule.limit,
    }


def tool_rule_from_doc(doc: Mapping[str, Any]) -> ToolRule:
    outcomes: Mapping[str, Any] = doc.get("outcomes") or {}
    return ToolRule(
        kind=doc["kind"],
        tool=doc["tool"],
        children=_strings(doc.get("children")),
        outcomes={str(k): _strings(v) for k, v in outcomes.items()},
        limit=int(doc.get("limit", 0)),
    )


def agent_to_doc(agent: Agent) -> JSON:
    return {
        "id": agent.id,
        "name": agent.name,
        "model": agent.model,
        "system_prompt": agent.system_prompt,
        "tools": list(agent.tools),
        "tags": list(agent.tags),
        "tool_rules": [tool_rule_to_doc(r) for r in agent.tool_rules],
        "shared_blocks": list(agent.shared_blocks),
        "context_budget": agent.context_budget,
        "overflow": agent.overflow,
        "max_steps": agent.max_steps,
        "created_at": encode_datetime(agent.created_at),
        "version": agent.version,
    }


def agent_from_doc(doc: Mapping[str, Any]) -> Agent:
    return Agent(
        id=doc["id"],
        name=doc["name"],
        model=doc["model"],
        system_prompt=doc["system_prompt"],
        tools=_strings(doc.get("tools")),
        tags=_strings(doc.get("tags")),
        tool_rules=tuple(tool_rule_from_doc(r) for r in doc.get("tool_rules") or ()),
        shared_blocks=_strings(doc.get("shared_blocks")),
        context_budget=int(doc["context_budget"]),
        overflow=doc["overflow"],
        max_steps=int(doc["max_steps"]),
        created_at=decode_datetime(doc["created_at"]),
        version=int(doc.get("version", 1)),
    )


# ---------------------------------------------------------------------------------------------
# Core memory, recall, archival


def block_to_doc(block: Block) -> JSON:
    return {
        "id": block.id,
        "owner": block.owner,
        "workspace": block.workspace,
        "label": block.label,
        "subject": block.subject,
        "scope": str(block.scope),
        "value": block.value,
        "limit": block.limit,
        "version": block.version,
        "updated_at": encode_datetime(block.updated_at),
    }


def block_from_doc(doc: Mapping[str, Any]) -> Block:
    return Block(
        id=doc["id"],
        owner=doc["owner"],
        workspace=doc["workspace"],
        label=doc["label"],
        subject=doc["subject"],
        scope=Scope.parse(doc["scope"]),
        value=doc["value"],
        limit=int(doc["limit"]),
        version=int(doc["version"]),
        updated_at=decode_datetime(doc["updated_at"]),
    )


def tool_call_to_doc(call: ToolCall) -> JSON:
    return {"id": call.id, "name": call.name, "arguments": call.arguments}


def tool_call_from_doc(doc: Mapping[str, Any]) -> ToolCall:
    return ToolCall(id=doc["id"], name=doc["name"], arguments=doc["arguments"])


def message_to_doc(message: Message) -> JSON:
    return {
        "id": message.id,
        "agent_id": message.agent_id,
        "workspace": message.workspace,
        "channel": message.channel,
        "thread": message.thread,
        "scope": str(message.scope),
        "role": message.role.value,
        "author": message.author,
        "author_name": message.author_name,
        "content": message.content,
        "seq": message.seq,
        "created_at": encode_datetime(message.created_at),
        "tool_calls": [tool_call_to_doc(c) for c in message.tool_calls],
        "tool_call_id": message.tool_call_id,
        "platform_ref": message.platform_ref,
        "turn_id": message.turn_id,
    }


def message_from_doc(doc: Mapping[str, Any]) -> Message:
    return Message(
        id=doc["id"],
        agent_id=doc["agent_id"],
        workspace=doc["workspace"],
        channel=doc["channel"],
        thread=doc["thread"],
        scope=Scope.parse(doc["scope"]),
        role=Role(doc["role"]),
        author=doc["author"],
        author_name=doc["author_name"],
        content=doc["content"],
        seq=int(doc["seq"]),
        created_at=decode_datetime(doc["created_at"]),
        tool_calls=tuple(tool_call_from_doc(c) for c in doc.get("tool_calls") or ()),
        tool_call_id=doc.get("tool_call_id", ""),
        platform_ref=doc.get("platform_ref", ""),
        turn_id=doc.get("turn_id", ""),
    )


def summary_to_doc(summary: Summary) -> JSON:
    return {
        "agent_id": summary.agent_id,
        "workspace": summary.workspace,
        "channel": summary.channel,
        "thread": summary.thread,
        "scope": str(summary.scope),
        "text": summary.text,
        "through_seq": summary.through_seq,
        "version": summary.version,
        "updated_at": encode_datetime(summary.updated_at),
    }


def summary_from_doc(doc: Mapping[str, Any]) -> Summary:
    return Summary(
        agent_id=doc["agent_id"],
        workspace=doc["workspace"],
        channel=doc["channel"],
        thread=doc["thread"],
        scope=Scope.parse(doc["scope"]),
        text=doc["text"],
        through_seq=int(doc["through_seq"]),
        version=int(doc["version"]),
        updated_at=decode_datetime(doc["updated_at"]),
    )


def passage_to_doc(passage: Passage) -> JSON:
    """The passage with its embedding as a list of floats (or None)."""
    return {
        "id": passage.id,
        "agent_id": passage.agent_id,
        "workspace": passage.workspace,
        "scope": str(passage.scope),
        "text": passage.text,
        "tags": list(passage.tags),
        "users": list(passage.users),
        "created_at": encode_datetime(passage.created_at),
        "embedding": None if passage.embedding is None else [float(x) for x in passage.embedding],
    }


def passage_from_doc(doc: Mapping[str, Any]) -> Passage:
    embedding = doc.get("embedding")
    return Passage(
        id=doc["id"],
        agent_id=doc["agent_id"],
        workspace=doc["workspace"],
        scope=Scope.parse(doc["scope"]),
        text=doc["text"],
        tags=_strings(doc.get("tags")),
        users=_strings(doc.get("users")),
        created_at=decode_datetime(doc["created_at"]),
        embedding=None if embedding is None else tuple(float(x) for x in embedding),
    )


# ---------------------------------------------------------------------------------------------
# Inbound and outbound traffic


def audience_to_doc(audience: Audience) -> JSON:
    return {
        "workspace": audience.workspace,
        "kind": audience.kind.value,
        "channel": audience.channel,
        "user": audience.user,
    }


def audience_from_doc(doc: Mapping[str, Any]) -> Audience:
    return Audience(
        workspace=doc["workspace"],
        kind=AudienceKind(doc["kind"]),
        channel=doc["channel"],
        user=doc.get("user"),
    )


def author_to_doc(author: Author) -> JSON:
    return {
        "id": author.id,
        "name": author.name,
        "is_agent": author.is_agent,
        "is_bot": author.is_bot,
    }


def author_from_doc(doc: Mapping[str, Any]) -> Author:
    return Author(
        id=doc["id"],
        name=doc["name"],
        is_agent=bool(doc.get("is_agent", False)),
        is_bot=bool(doc.get("is_bot", False)),
    )


def inbound_to_doc(inbound: Inbound) -> JSON:
    return {
        "platform": inbound.platform,
        "agent_id": inbound.agent_id,
        "audience": audience_to_doc(inbound.audience),
        "thread": inbound.thread,
        "author": author_to_doc(inbound.author),
        "text": inbound.text,
        "event_id": inbound.event_id,
        "message_ref": inbound.message_ref,
        "sent_at": encode_datetime(inbound.sent_at),
        "kind": inbound.kind.value,
        "respond": inbound.respond,
        "mentions": list(inbound.mentions),
        "hops": inbound.hops,
        "attachments": list(inbound.attachments),
        "channel_name": inbound.channel_name,
    }


def inbound_from_doc(doc: Mapping[str, Any]) -> Inbound:
    return Inbound(
        platform=doc["platform"],
        agent_id=doc["agent_id"],
        audience=audience_from_doc(doc["audience"]),
        thread=doc["thread"],
        author=author_from_doc(doc["author"]),
        text=doc["text"],
        event_id=doc["event_id"],
        message_ref=doc["message_ref"],
        sent_at=decode_datetime(doc["sent_at"]),
        kind=InboundKind(doc.get("kind", InboundKind.MESSAGE.value)),
        respond=bool(doc.get("respond", True)),
        mentions=_strings(doc.get("mentions")),
        hops=int(doc.get("hops", 0)),
        attachments=_strings(doc.get("attachments")),
        channel_name=doc.get("channel_name", ""),
    )


def outbound_to_doc(reply: Outbound) -> JSON:
    return {
        "id": reply.id,
        "inbox_id": reply.inbox_id,
        "platform": reply.platform,
        "agent_id": reply.agent_id,
        "workspace": reply.workspace,
        "channel": reply.channel,
        "thread": reply.thread,
        "text": reply.text,
        "reply_to": reply.reply_to,
        "index": reply.index,
        "created_at": encode_datetime(reply.created_at),
    }


def outbound_from_doc(doc: Mapping[str, Any]) -> Outbound:
    return Outbound(
        id=doc["id"],
        inbox_id=doc["inbox_id"],
        platform=doc["platform"],
        agent_id=doc["agent_id"],
        workspace=doc["workspace"],
        channel=doc["channel"],
        thread=doc["thread"],
        text=doc["text"],
        reply_to=doc.get("reply_to", ""),
        index=int(doc.get("index", 0)),
        created_at=decode_datetime(doc["created_at"]),
    )
