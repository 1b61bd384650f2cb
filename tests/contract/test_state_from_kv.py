"""A store written by a version that kept durable state as key-value documents: setting it
up moves that state into its typed stores."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from engine.audience import Audience, AudienceKind, Scope
from engine.records import JSON
from engine.store.codec import encode
from engine.store.protocol import Store
from engine.store.state import (
    DeliveryLedger,
    JobBackoff,
    JobCheckpoint,
    JournalEntry,
    MailMode,
    MailRecord,
    Origin,
    RunRecord,
    RunStatus,
    TargetState,
    TurnOutcome,
)
from engine.tools.custom import CustomTool
from tests.contract.records import reply

WHEN = datetime(2026, 3, 3, 9, 30, 15, 123456, tzinfo=UTC)
DM = Audience("T1", AudienceKind.DM, "D1", user="alice")
ANSWER = reply("in-1", 0, "hello")

#: (namespace, key, document) as the earlier version wrote them.
EARLIER: list[tuple[str, str, JSON]] = [
    (
        "turns",
        "in-1",
        {
            "items": ["in-1", "in-2"],
            "outcome": "done",
            "messages": [],
            "replies": [encode(ANSWER)],
            "error": "",
        },
    ),
    (
        "agent_mail",
        "m-1",
        {
            "sender": "a",
            "sender_name": "Ada",
            "recipient": "b",
            "audience": encode(DM),
            "hops": 1,
            "mode": "wait",
            "origin": {"platform": "slack", "thread": "1700.1", "channel_name": "general"},
        },
    ),
    (
        "tools",
        "forecast",
        {
            "name": "forecast",
            "description": "Weather.",
            "parameters": {"type": "object", "properties": {}},
            "source": "def forecast():\n    return 1\n",
            "function": "forecast",
            "origin": "weather.py",
            "enums": {},
        },
    ),
    (
        "job_runs",
        "consolidate/00001772530215123456-r1",
        {
            "id": "r1",
            "job": "consolidate",
            "target": "a/T1/D1/",
            "workspace": "T1",
            "scope": "",
            "holder": "h",
            "attempt": 2,
            "started_at": "2026-03-03T09:30:15.123456+00:00",
            "status": "ok",
            "ended_at": None,
            "tokens": 120,
            "detail": "2 passes",
            "error": "",
        },
    ),
    (
        "job_state",
        "consolidate:a/T1/D1/",
        {
            "slot": 7,
            "status": "failed",
            "attempts": 2,
            "run_key": "consolidate/00001772530215123456-r1",
            "workspace": "T1",
            "scope": "dm:alice",
            "retry_at": "2026-03-03T09:30:15.123456+00:00",
        },
    ),
    ("job_backoff", "digest", {"failures": 3, "retry_at": "2026-03-03T09:30:15.123456+00:00"}),
    ("consolidation", "a/T1/D1/", {"seq": 42, "workspace": "T1", "scope": "dm:alice"}),
    (
        "hygiene",
        "a/T1/workspace",
        {"at": "2026-03-03T09:30:15.123456+00:00", "workspace": "T1", "scope": "workspace"},
    ),
    ("slack.deliveries", "2026-03-03/r-9", {"posted": ["171.1", "171.2"], "channel": "C1"}),
    ("retention", "T1", {"recall_days": 30}),
]


async def test_state_kept_as_documents_moves_into_its_stores(store: Store) -> None:
    for namespace, key, doc in EARLIER:
        await store.kv.put(namespace, key, doc)
    await store.setup()

    assert await store.journal.find("in-1") == JournalEntry(
        "in-1", ("in-1", "in-2"), TurnOutcome.DONE, (), (ANSWER,)
    )
    assert await store.mail.get("m-1") == MailRecord(
        "m-1", "a", "Ada", "b", DM, 1, MailMode.WAIT, Origin("slack", "1700.1", "general")
    )
    assert await store.mail.delete_user("T1", "alice") == 1
    assert await store.tools.get("forecast") == CustomTool(
        "forecast",
        "Weather.",
        {"type": "object", "properties": {}},
        "def forecast():\n    return 1\n",
        "forecast",
        "weather.py",
        {},
        version=1,
    )
    run = RunRecord(
        "r1", "consolidate", "a/T1/D1/", "T1", None, "h", 2, WHEN,
        RunStatus.OK, None, 120, "2 passes",
    )  # fmt: skip
    assert await store.jobs.runs("consolidate", 10) == [run]
    assert await store.jobs.state("consolidate", "a/T1/D1/") == TargetState(
        7, RunStatus.FAILED, 2, run.key, "T1", Scope.dm("alice"), WHEN
    )
    assert await store.jobs.backoff("digest") == JobBackoff(3, WHEN)
    assert await store.jobs.checkpoint("consolidate", "a/T1/D1/") == JobCheckpoint(
        "T1", Scope.dm("alice"), seq=42
    )
    assert await store.jobs.checkpoint("hygiene", "a/T1/workspace") == JobCheckpoint(
        "T1", Scope.workspace(), at=WHEN
    )
    assert await store.deliveries.get("r-9") == DeliveryLedger(
        "r-9", "slack", "C1", ("171.1", "171.2"), datetime(2026, 3, 3, tzinfo=UTC)
    )
    # Settings stay settings; the moved documents are gone from the key-value store.
    assert await store.kv.get("retention", "T1") == {"recall_days": 30}
    for namespace, key, _ in EARLIER[:-1]:
        assert await store.kv.get(namespace, key) is None

    await store.setup()
    assert await store.jobs.backoff("digest") == JobBackoff(3, WHEN)
    assert await store.tools.get("forecast") is not None


#: Leftovers that do not read as their records: a missing field, a nested record that is not
#: a document, a time that is not a time, a ledger key without its day.
MALFORMED: list[tuple[str, str, JSON]] = [
    ("turns", "in-9", {"items": ["in-9"], "messages": [], "replies": []}),
    (
        "agent_mail",
        "m-9",
        {
            "sender": "a",
            "sender_name": "Ada",
            "recipient": "b",
            "audience": "T1",
            "hops": 1,
            "mode": "wait",
        },
    ),
    ("job_backoff", "digest", {"failures": 3, "retry_at": "not a time"}),
    ("slack.deliveries", "r-9", {"posted": ["171.1"], "channel": "C1"}),
]


async def test_a_malformed_leftover_is_logged_and_left_while_the_rest_moves(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    for namespace, key, doc in MALFORMED:
        await store.kv.put(namespace, key, doc)
    tool = next(doc for namespace, _, doc in EARLIER if namespace == "tools")
    await store.kv.put("tools", "forecast", tool)

    with caplog.at_level(logging.WARNING, logger="engine.store.kv_moves"):
        await store.setup()

    assert await store.tools.get("forecast") is not None
    assert await store.kv.get("tools", "forecast") is None
    assert await store.journal.find("in-9") is None
    assert await store.mail.get("m-9") is None
    assert await store.jobs.backoff("digest") is None
    assert await store.deliveries.get("r-9") is None
    for namespace, key, doc in MALFORMED:
        assert await store.kv.get(namespace, key) == doc
        assert f"{namespace}/{key}" in caplog.text
