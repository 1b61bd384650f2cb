"""Every record survives the trip through its stored shape, and that shape is plain JSON."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta, timezone
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
from engine.store import codec

WHEN = datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)


def _through_json[T](
    record: T, to_doc: Callable[[T], JSON], from_doc: Callable[[Mapping[str, Any]], T]
) -> T:
    return from_doc(json.loads(json.dumps(to_doc(record))))


def test_agent_with_tool_rules_round_trips() -> None:
    agent = Agent(
        id="a1",
        name="Ada",
        model="gpt-x",
        system_prompt="Be kind.",
        tools=("send_message", "archival_memory_search"),
        tags=("helper",),
        tool_rules=(
            ToolRule(kind="terminal", tool="send_message"),
            ToolRule(
                kind="conditional",
                tool="check",
                outcomes={"yes": ("send_message",), "*": ("no_reply", "check")},
            ),
            ToolRule(kind="child", tool="search", children=("send_message",)),
            ToolRule(kind="max_per_step", tool="search", limit=3),
        ),
        context_budget=8000,
        overflow="truncate",
        max_steps=5,
        created_at=WHEN,
        version=4,
    )
    assert _through_json(agent, codec.agent_to_doc, codec.agent_from_doc) == agent


def test_block_round_trips() -> None:
    block = Block("b1", "a1", "", "persona", "", Scope.agent(), "I am Ada.", 2000, 3, WHEN)
    assert _through_json(block, codec.block_to_doc, codec.block_from_doc) == block


def test_message_with_tool_calls_round_trips() -> None:
    message = Message(
        id="m1",
        agent_id="a1",
        workspace="T1",
        channel="C1",
        thread="1.2",
        scope=Scope.dm("U1"),
        role=Role.ASSISTANT,
        author="a1",
        author_name="Ada",
        content="",
        seq=1_700_000_000_000_000_001,
        created_at=WHEN,
        tool_calls=(ToolCall("call_1", "send_message", '{"message": "hi"}'),),
        tool_call_id="",
        platform_ref="171.1",
        turn_id="t1",
    )
    assert _through_json(message, codec.message_to_doc, codec.message_from_doc) == message
    # Stored as the same text as ever, so rows written before still read back.
    assert codec.message_to_doc(message)["scope"] == "dm:U1"


def test_summary_round_trips() -> None:
    summary = Summary("a1", "T1", "C1", "", Scope.workspace(), "They met.", 42, 2, WHEN)
    assert _through_json(summary, codec.summary_to_doc, codec.summary_from_doc) == summary


def test_passage_round_trips_with_and_without_embedding() -> None:
    with_vector = Passage(
        "p1", "a1", "T1", Scope.dm("U1"), "Likes tea", ("pref",), ("U1",), WHEN, (0.5, -0.25, 1.0)
    )
    without = Passage("p2", "a1", "T1", Scope.workspace(), "Office in Paris", created_at=WHEN)
    for passage in (with_vector, without):
        assert _through_json(passage, codec.passage_to_doc, codec.passage_from_doc) == passage


def test_inbound_with_audience_and_author_round_trips() -> None:
    inbound = Inbound(
        platform="slack",
        agent_id="a1",
        audience=Audience("T1", AudienceKind.DM, "D1", user="U1"),
        thread="",
        author=Author("U1", "Grace", is_agent=False, is_bot=True),
        text="hello",
        event_id="Ev1",
        message_ref="171.1",
        sent_at=WHEN,
        kind=InboundKind.EDIT,
        respond=False,
        mentions=("a1", "a2"),
        hops=2,
        attachments=("https://files/x.png",),
        channel_name="#general",
    )
    assert _through_json(inbound, codec.inbound_to_doc, codec.inbound_from_doc) == inbound


def test_outbound_round_trips() -> None:
    reply = Outbound("o1", "i1", "discord", "a1", "G1", "C1", "", "Hi!", "99", 1, WHEN)
    assert _through_json(reply, codec.outbound_to_doc, codec.outbound_from_doc) == reply


def test_datetimes_sort_as_text_in_time_order_and_come_back_in_utc() -> None:
    paris = timezone(timedelta(hours=1))
    earlier = datetime(2026, 1, 1, 10, 30, tzinfo=paris)  # 09:30 UTC
    later = datetime(2026, 1, 1, 9, 45, tzinfo=UTC)
    assert codec.encode_datetime(earlier) < codec.encode_datetime(later)
    assert codec.decode_datetime(codec.encode_datetime(earlier)) == earlier
    naive = datetime(2026, 1, 1, 9, 0)
    assert codec.decode_datetime(codec.encode_datetime(naive)) == naive.replace(tzinfo=UTC)
