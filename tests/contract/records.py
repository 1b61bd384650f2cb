"""Small builders for contract tests: one agent, two workspaces, the audiences of a team."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from engine.audience import Audience, AudienceKind, Scope
from engine.records import (
    Author,
    Block,
    Inbound,
    InboundKind,
    Message,
    Outbound,
    Passage,
    Role,
    new_id,
)
from engine.store.protocol import RecordFilter
from engine.store.queues import InboxItem, InboxStatus

AGENT = "agent-1"
WS = "T1"
OTHER_WS = "T2"
#: Embedding size shared with the MongoDB test server's vector index.
DIM = 8
BASE_TIME = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)

PUBLIC = Audience(WS, AudienceKind.PUBLIC, "C-general")
DM_ALICE = Audience(WS, AudienceKind.DM, "D-alice", user="alice")
DM_BOB = Audience(WS, AudienceKind.DM, "D-bob", user="bob")
PRIVATE = Audience(WS, AudienceKind.PRIVATE, "G-secret")
OTHER_PUBLIC = Audience(OTHER_WS, AudienceKind.PUBLIC, "C-elsewhere")

_seqs = itertools.count(1)


def visible_to(audience: Audience, **narrowing: Any) -> RecordFilter:
    """What a turn heard by ``audience`` may read, optionally narrowed (dates, tags, ...)."""
    return replace(RecordFilter.for_audience(AGENT, audience), **narrowing)


def axis(i: int) -> tuple[float, ...]:
    """A unit vector along axis ``i`` (cosine 1 with itself, 0 with every other axis)."""
    return tuple(1.0 if j == i % DIM else 0.0 for j in range(DIM))


def message(
    content: str,
    audience: Audience = PUBLIC,
    *,
    author: str = "alice",
    thread: str = "",
    seq: int | None = None,
    minutes: float = 0,
    platform_ref: str = "",
    agent: str = AGENT,
    role: Role = Role.USER,
) -> Message:
    return Message(
        id=new_id(),
        agent_id=agent,
        workspace=audience.workspace,
        channel=audience.channel,
        thread=thread,
        scope=audience.write_scope,
        role=role,
        author=author,
        author_name=author.title(),
        content=content,
        seq=next(_seqs) if seq is None else seq,
        created_at=BASE_TIME + timedelta(minutes=minutes),
        platform_ref=platform_ref,
    )


def passage(
    text: str,
    audience: Audience = PUBLIC,
    *,
    tags: tuple[str, ...] = (),
    users: tuple[str, ...] = (),
    embedding: tuple[float, ...] | None = None,
    minutes: float = 0,
) -> Passage:
    return Passage(
        id=new_id(),
        agent_id=AGENT,
        workspace=audience.workspace,
        scope=audience.write_scope,
        text=text,
        tags=tags,
        users=users,
        created_at=BASE_TIME + timedelta(minutes=minutes),
        embedding=embedding,
    )


def block(
    label: str,
    value: str,
    *,
    workspace: str = WS,
    subject: str = "",
    scope: Scope = PUBLIC.write_scope,
    owner: str = AGENT,
) -> Block:
    return Block(
        id=new_id(),
        owner=owner,
        workspace=workspace,
        label=label,
        subject=subject,
        scope=scope,
        value=value,
        limit=2000,
        updated_at=BASE_TIME,
    )


def persona(value: str = "I am Ada, a helpful agent.") -> Block:
    return block("persona", value, workspace="", scope=Scope.agent())


def inbox_item(
    event_id: str,
    *,
    message_ref: str = "",
    audience: Audience = PUBLIC,
    kind: InboundKind = InboundKind.MESSAGE,
    conversation: str = "conv-1",
    seq: int | None = None,
    text: str = "hello",
    agent: str = AGENT,
) -> InboxItem:
    inbound = Inbound(
        platform="slack",
        agent_id=agent,
        audience=audience,
        thread="",
        author=Author("alice", "Alice"),
        text=text,
        event_id=event_id,
        message_ref=message_ref,
        sent_at=BASE_TIME,
        kind=kind,
        mentions=(AGENT,),
    )
    return InboxItem(
        id=new_id(),
        inbound=inbound,
        conversation=conversation,
        seq=next(_seqs) if seq is None else seq,
        status=InboxStatus.PENDING,
    )


def reply(inbox_id: str, index: int, text: str, *, minutes: float = 0) -> Outbound:
    return Outbound(
        id=new_id(),
        inbox_id=inbox_id,
        platform="slack",
        agent_id=AGENT,
        workspace=WS,
        channel=PUBLIC.channel,
        thread="",
        text=text,
        index=index,
        created_at=BASE_TIME + timedelta(minutes=minutes),
    )
