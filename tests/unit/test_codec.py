"""Every record survives the trip through its stored shape, and that shape is plain JSON."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone

import pytest

from engine.audience import Audience, AudienceKind, Scope
from engine.records import (
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
    ToolRule,
)
from engine.store import codec
from engine.store.queues import OutboxEntry, OutboxStatus

WHEN = datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)


def _through_json[T](record: T) -> T:
    return codec.decode(type(record), json.loads(json.dumps(codec.encode(record))))


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
    assert _through_json(agent) == agent


def test_block_round_trips() -> None:
    block = Block("b1", "a1", "", "persona", "", Scope.agent(), "I am Ada.", 2000, 3, WHEN)
    assert _through_json(block) == block


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
    assert _through_json(message) == message
    # Stored as the same text as ever, so rows written before still read back.
    assert codec.encode(message)["scope"] == "dm:U1"


def test_summary_round_trips() -> None:
    summary = Summary("a1", "T1", "C1", "", Scope.workspace(), "They met.", 42, 2, WHEN)
    assert _through_json(summary) == summary


def test_passage_round_trips_with_and_without_embedding() -> None:
    with_vector = Passage(
        "p1", "a1", "T1", Scope.dm("U1"), "Likes tea", ("pref",), ("U1",), WHEN, (0.5, -0.25, 1.0)
    )
    without = Passage("p2", "a1", "T1", Scope.workspace(), "Office in Paris", created_at=WHEN)
    for passage in (with_vector, without):
        assert _through_json(passage) == passage


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
    assert _through_json(inbound) == inbound


def test_outbound_round_trips() -> None:
    reply = Outbound("o1", "i1", "discord", "a1", "G1", "C1", "", "Hi!", "99", 1, WHEN)
    assert _through_json(reply) == reply


def test_datetimes_sort_as_text_in_time_order_and_come_back_in_utc() -> None:
    paris = timezone(timedelta(hours=1))
    earlier = datetime(2026, 1, 1, 10, 30, tzinfo=paris)  # 09:30 UTC
    later = datetime(2026, 1, 1, 9, 45, tzinfo=UTC)
    assert codec.encode_datetime(earlier) < codec.encode_datetime(later)
    assert codec.decode_datetime(codec.encode_datetime(earlier)) == earlier
    naive = datetime(2026, 1, 1, 9, 0)
    assert codec.decode_datetime(codec.encode_datetime(naive)) == naive.replace(tzinfo=UTC)


def test_a_naive_datetime_in_a_record_is_stored_and_read_back_as_utc() -> None:
    naive = datetime(2026, 1, 1, 9, 0, 0, 5)
    reply = Outbound("o1", "i1", "slack", "a1", "T1", "C1", "", "Hi!", created_at=naive)
    doc = codec.encode(reply)
    assert doc["created_at"] == "2026-01-01T09:00:00.000005+00:00"
    assert _through_json(reply).created_at == naive.replace(tzinfo=UTC)


def test_every_record_and_value_type_round_trips() -> None:
    records: list[object] = [
        ToolRule(kind="init", tool="search"),
        ToolCall("c1", "search", "{}"),
        Author("U1", "Grace"),
        Audience("T1", AudienceKind.PUBLIC, "C1"),
        Audience("T1", AudienceKind.PRIVATE, "G1", user=None),
        ConversationKey("a1", "T1", "C1", "1.2"),
        Agent("a1", "Ada", "gpt-x", "Be kind.", (), created_at=WHEN),
        Block("b1", "a1", "T1", BlockLabel.HUMAN, "U1", Scope.private("G1"), "", 10),
        Summary("a1", "T1", "C1", "", Scope.dm("U1"), "", 0),
        Passage("p3", "a1", "T1", Scope.agent(), "", embedding=()),
        OutboxEntry(
            Outbound("o1", "i1", "slack", "a1", "T1", "C1", "", "Hi!", created_at=WHEN),
            OutboxStatus.PENDING,
            attempts=2,
            next_attempt_at=WHEN,
        ),
    ]
    for record in records:
        assert _through_json(record) == record


def test_the_stored_shape_is_the_records_fields_in_plain_json() -> None:
    inbound = Inbound(
        platform="discord",
        agent_id="a1",
        audience=Audience("G1", AudienceKind.PUBLIC, "C1"),
        thread="t",
        author=Author("U1", "Grace"),
        text="hi",
        event_id="E1",
        message_ref="R1",
        sent_at=WHEN,
        mentions=("a2",),
    )
    assert codec.encode(inbound) == {
        "platform": "discord",
        "agent_id": "a1",
        "audience": {
            "workspace": "G1",
            "kind": "public",
            "channel": "C1",
            "user": None,
            "outside": False,
        },
        "thread": "t",
        "author": {"id": "U1", "name": "Grace", "is_agent": False, "is_bot": False},
        "text": "hi",
        "event_id": "E1",
        "message_ref": "R1",
        "sent_at": "2026-03-04T05:06:07.890123+00:00",
        "kind": "message",
        "respond": True,
        "mentions": ["a2"],
        "hops": 0,
        "attachments": [],
        "channel_name": "",
        "past": False,
    }
    rule = ToolRule(kind="conditional", tool="check", outcomes={"yes": ("send_message",)})
    assert codec.encode(rule)["outcomes"] == {"yes": ["send_message"]}


def test_documents_written_before_a_field_existed_read_back_with_its_default() -> None:
    old_inbound = {
        "platform": "slack",
        "agent_id": "a1",
        "audience": {"workspace": "T1", "kind": "dm", "channel": "D1", "user": "U1"},
        "thread": "",
        "author": {"id": "U1", "name": "Grace"},
        "text": "hello",
        "event_id": "Ev1",
        "message_ref": "171.1",
        "sent_at": "2026-03-04T05:06:07.890123+00:00",
    }
    inbound = codec.decode(Inbound, old_inbound)
    assert inbound.kind is InboundKind.MESSAGE
    assert (inbound.respond, inbound.mentions, inbound.hops) == (True, (), 0)
    assert (inbound.attachments, inbound.channel_name, inbound.past) == ((), "", False)
    assert inbound.author == Author("U1", "Grace")
    assert inbound.audience == Audience("T1", AudienceKind.DM, "D1", user="U1")

    old_agent = {
        "id": "a1",
        "name": "Ada",
        "model": "gpt-x",
        "system_prompt": "",
        "tools": ["send_message"],
        "created_at": "2026-03-04T05:06:07.890123+00:00",
    }
    agent = codec.decode(Agent, old_agent)
    assert (agent.version, agent.tags, agent.tool_rules, agent.max_steps) == (1, (), (), 8)


def test_a_document_lacking_a_required_field_names_it() -> None:
    with pytest.raises(KeyError, match="platform"):
        codec.decode(Outbound, {"id": "o1", "inbox_id": "i1"})
    doc = codec.encode(ToolCall("c1", "search", "{}"))
    del doc["arguments"]
    with pytest.raises(KeyError, match="arguments"):
        codec.decode(ToolCall, doc)


def test_values_are_coerced_to_their_fields_types() -> None:
    doc = codec.encode(Summary("a1", "T1", "C1", "", Scope.workspace(), "x", 42, 2, WHEN))
    doc |= {"through_seq": "43", "version": 3.0}
    summary = codec.decode(Summary, doc)
    assert (summary.through_seq, summary.version) == (43, 3)
    assert isinstance(summary.version, int)
    passage = codec.decode(
        Passage,
        codec.encode(Passage("p1", "a1", "T1", Scope.workspace(), "x"))
        | {
            "embedding": [1, 0],
            "tags": ("t",),
        },
    )
    assert passage.embedding == (1.0, 0.0)
    assert all(isinstance(x, float) for x in passage.embedding)
    assert passage.tags == ("t",)


@dataclass(frozen=True, slots=True)
class _Vectorised:
    id: str
    when: datetime
    scope: Scope | None = None
    vector: tuple[float, ...] = ()
    notes: dict[str, int] = field(default_factory=dict)


@pytest.fixture
def declared_shape() -> Iterator[None]:
    codec.SHAPES[_Vectorised] = codec.Shape(
        keys={"id": "key", "when": "at"}, left_out=frozenset({"vector"})
    )
    yield
    del codec.SHAPES[_Vectorised]


@pytest.mark.usefixtures("declared_shape")
def test_a_declared_shape_renames_keys_and_leaves_fields_out() -> None:
    record = _Vectorised("k1", WHEN, Scope.dm("U1"), (0.5,), {"n": 1})
    doc = codec.encode(record)
    assert doc == {
        "key": "k1",
        "at": "2026-03-04T05:06:07.890123+00:00",
        "scope": "dm:U1",
        "notes": {"n": 1},
    }
    assert codec.decode(_Vectorised, doc) == _Vectorised("k1", WHEN, Scope.dm("U1"), (), {"n": 1})
    assert codec.decode(_Vectorised, doc | {"scope": None}).scope is None


def test_only_dataclasses_are_records() -> None:
    with pytest.raises(TypeError, match="not a record"):
        codec.encode("text")
