"""Records as the inspector's JSON shows them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from engine import JSON, Agent, Audience, Block, BlockView, Message, Passage, Scored, describe_scope
from jobs import RunRecord


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def agent_view(agent: Agent) -> JSON:
    return {
        "id": agent.id,
        "name": agent.name,
        "model": agent.model,
        "system_prompt": agent.system_prompt,
        "tools": list(agent.tools),
        "tags": list(agent.tags),
        "shared_blocks": list(agent.shared_blocks),
        "context_budget": agent.context_budget,
        "overflow": agent.overflow,
        "max_steps": agent.max_steps,
        "tool_rules": [
            {"kind": r.kind, "tool": r.tool, "children": list(r.children), "limit": r.limit}
            for r in agent.tool_rules
        ],
        "created_at": _time(agent.created_at),
        "version": agent.version,
    }


def block_part_view(part: Block, audience: Audience, subject_name: str) -> JSON:
    return {
        "id": part.id,
        "owner": part.owner,
        "workspace": part.workspace,
        "label": part.label,
        "subject": part.subject,
        "scope": str(part.scope),
        "seen": describe_scope(part.scope, subject_name),
        "writable": part.scope == audience.write_scope and part.workspace == audience.workspace,
        "value": part.value,
        "limit": part.limit,
        "version": part.version,
        "updated_at": _time(part.updated_at),
    }


def block_view(view: BlockView, audience: Audience) -> JSON:
    return {
        "label": view.label,
        "owner": view.owner,
        "subject": view.subject,
        "subject_name": view.subject_name,
        "value": view.value,
        "size": view.size,
        "limit": view.limit,
        "parts": [block_part_view(p, audience, view.subject_name) for p in view.parts],
    }


def message_view(message: Message) -> JSON:
    return {
        "id": message.id,
        "role": message.role.value,
        "author": message.author,
        "author_name": message.author_name,
        "content": message.content,
        "channel": message.channel,
        "thread": message.thread,
        "scope": str(message.scope),
        "seq": message.seq,
        "created_at": _time(message.created_at),
        "tool_calls": [
            {"id": c.id, "name": c.name, "arguments": c.arguments} for c in message.tool_calls
        ],
        "tool_call_id": message.tool_call_id,
    }


def passage_view(passage: Passage) -> JSON:
    return {
        "id": passage.id,
        "text": passage.text,
        "tags": list(passage.tags),
        "users": list(passage.users),
        "workspace": passage.workspace,
        "scope": str(passage.scope),
        "created_at": _time(passage.created_at),
    }


def scored_view[T](found: Scored[T], view: Callable[[T], JSON]) -> JSON:
    return {**view(found.record), "score": round(found.score, 6)}


def run_view(run: RunRecord) -> JSON:
    return {
        "id": run.id,
        "job": run.job,
        "target": run.target,
        "workspace": run.workspace,
        "scope": str(run.scope or ""),
        "status": run.status.value,
        "attempt": run.attempt,
        "started_at": _time(run.started_at),
        "ended_at": _time(run.ended_at),
        "tokens": run.tokens,
        "detail": run.detail,
        "error": run.error,
    }
