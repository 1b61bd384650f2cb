"""Records as the inspector's JSON shows them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import Enum

from engine import JSON, Agent, Audience, Block, BlockView, Message, Passage, Scored, describe_scope
from jobs import RunRecord


def _json_value(value: object) -> object:
    match value:
        case None | bool() | int() | float():
            return value
        case Enum():
            return value.value
        case str():
            return value
        case datetime():
            return value.isoformat()
        case tuple() | list():
            return [_json_value(item) for item in value]
        case _:  # scopes and other values that read as text
            return str(value)


def fields_view(record: object, *names: str) -> JSON:
    """The named fields of a record as JSON: times as ISO text, enums as their value,
    sequences as lists, scopes as text."""
    return {name: _json_value(getattr(record, name)) for name in names}


def agent_view(agent: Agent) -> JSON:
    return {
        **fields_view(agent, "id", "name", "model", "system_prompt", "tools", "tags"),
        **fields_view(agent, "shared_blocks", "context_budget", "overflow", "max_steps"),
        "tool_rules": [
            fields_view(r, "kind", "tool", "children", "limit") for r in agent.tool_rules
        ],
        **fields_view(agent, "created_at", "version"),
    }


def block_part_view(part: Block, audience: Audience, subject_name: str) -> JSON:
    return {
        **fields_view(part, "id", "owner", "workspace", "label", "subject", "scope"),
        "seen": describe_scope(part.scope, subject_name),
        "writable": part.scope == audience.write_scope and part.workspace == audience.workspace,
        **fields_view(part, "value", "limit", "version", "updated_at"),
    }


def block_view(view: BlockView, audience: Audience) -> JSON:
    return {
        **fields_view(view, "label", "owner", "subject", "subject_name", "value", "size", "limit"),
        "parts": [block_part_view(p, audience, view.subject_name) for p in view.parts],
    }


def message_view(message: Message) -> JSON:
    return {
        **fields_view(message, "id", "role", "author", "author_name", "content", "channel"),
        **fields_view(message, "thread", "scope", "seq", "created_at"),
        "tool_calls": [fields_view(c, "id", "name", "arguments") for c in message.tool_calls],
        "tool_call_id": message.tool_call_id,
    }


def passage_view(passage: Passage) -> JSON:
    return fields_view(passage, "id", "text", "tags", "users", "workspace", "scope", "created_at")


def scored_view[T](found: Scored[T], view: Callable[[T], JSON]) -> JSON:
    return {**view(found.record), "score": round(found.score, 6)}


def run_view(run: RunRecord) -> JSON:
    return {
        **fields_view(run, "id", "job", "target", "workspace"),
        "scope": str(run.scope or ""),
        **fields_view(run, "status", "attempt", "started_at", "ended_at", "tokens", "detail"),
        "error": run.error,
    }
