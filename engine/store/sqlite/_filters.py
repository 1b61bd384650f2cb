"""``RecordFilter`` as an SQL condition, the one place every memory read is restricted."""

from __future__ import annotations

from typing import Literal

from engine.records import ConversationKey
from engine.store.protocol import RecordFilter
from engine.store.sqlite._time import to_micros

type Params = list[object]


def placeholders(count: int) -> str:
    return ",".join("?" * count)


def conversation_params(conversation: ConversationKey) -> tuple[str, str, str, str]:
    """The values a conversation's rows (messages, its summary) are keyed by, in order:
    agent, workspace, channel, thread."""
    return (
        conversation.agent_id,
        conversation.workspace,
        conversation.channel,
        conversation.thread,
    )


def where_visible(
    where: RecordFilter, table: Literal["messages", "passages"], alias: str
) -> tuple[str, Params]:
    """The condition and parameters that keep a read inside ``where``.

    ``alias`` names the table in the query (``m.`` style prefixes are added here).
    """
    p = f"{alias}." if alias else ""
    clauses = [f"{p}agent_id = ?", f"{p}workspace = ?"]
    params: Params = [where.agent_id, where.workspace]
    if where.scopes:
        clauses.append(f"{p}scope IN ({placeholders(len(where.scopes))})")
        params.extend(str(s) for s in where.scopes)
    else:
        clauses.append("0")
    if where.start is not None:
        clauses.append(f"{p}created_at >= ?")
        params.append(to_micros(where.start))
    if where.end is not None:
        clauses.append(f"{p}created_at <= ?")
        params.append(to_micros(where.end))
    if table == "messages":
        if where.channel is not None:
            clauses.append(f"{p}channel = ?")
            params.append(where.channel)
        if where.user is not None:
            clauses.append(f"{p}author = ?")
            params.append(where.user)
    else:
        if where.tags:
            clauses.append(
                f"EXISTS (SELECT 1 FROM json_each({p}tags) "
                f"WHERE json_each.value IN ({placeholders(len(where.tags))}))"
            )
            params.extend(where.tags)
        if where.user is not None:
            clauses.append(f"EXISTS (SELECT 1 FROM json_each({p}users) WHERE json_each.value = ?)")
            params.append(where.user)
    return " AND ".join(clauses), params


def counted_scopes(where: RecordFilter) -> tuple[str, Params] | None:
    """The ``record_counts`` condition answering a count for ``where``, when ``where`` only
    restricts agent, workspace and scopes (what a turn asks); None when rows must be counted."""
    if where.start or where.end or where.channel is not None or where.tags or where.user:
        return None
    condition = f"agent_id = ? AND workspace = ? AND scope IN ({placeholders(len(where.scopes))})"
    return condition, [where.agent_id, where.workspace, *map(str, where.scopes)]
