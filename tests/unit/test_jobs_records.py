"""Pure pieces of the jobs: transcripts, batches, run records, the table."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from engine.audience import Scope
from engine.records import Message, Role, ToolCall
from engine.store.codec import decode, encode
from jobs.consolidation import ConsolidationJob
from jobs.history import RunRecord, RunStatus, TargetState
from jobs.memory_pass import transcript
from jobs.report import format_runs
from jobs.settings import JobSettings

WHEN = datetime(2026, 3, 3, 9, 30, tzinfo=UTC)


def message(content: str, role: Role = Role.USER, **fields: object) -> Message:
    base = Message(
        id="m",
        agent_id="agent",
        workspace="W1",
        channel="C1",
        thread="",
        scope=Scope.workspace(),
        role=role,
        author="u1",
        author_name="Uma",
        content=content,
        seq=1,
        created_at=WHEN,
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def test_transcript_keeps_what_people_and_the_assistant_said() -> None:
    lines = transcript(
        [
            message("I like tea"),
            message(
                "",
                Role.ASSISTANT,
                author="agent",
                tool_calls=(
                    ToolCall("c1", "core_memory_append", '{"label": "human"}'),
                    ToolCall("c2", "send_message", '{"message": "Noted!"}'),
                ),
            ),
            message("Appended.", Role.TOOL, author=""),
            message("", Role.ASSISTANT, tool_calls=(ToolCall("c3", "send_message", "{bad"),)),
        ],
        "Mnemo",
    )
    assert lines == [
        "[2026-03-03 09:30] Uma (user u1): I like tea",
        "[2026-03-03 09:30] Mnemo (assistant): Noted!",
    ]


def test_backlogs_are_read_in_batches_within_the_limits() -> None:
    job = ConsolidationJob(None, None, JobSettings(batch_messages=3), 900)  # type: ignore[arg-type]
    messages = [message(f"m{i}", seq=i) for i in range(7)]
    sizes = [len(b) for b in job._batches(messages)]
    assert sizes == [3, 3, 1]
    huge = [message("x" * 15_000, seq=i) for i in range(3)]
    assert [len(b) for b in job._batches(huge)] == [1, 1, 1]
    assert job._batches([]) == []


def test_run_records_and_states_round_trip_through_documents() -> None:
    record = RunRecord(
        "r1", "consolidate", "a/W1/C1/", "W1", Scope.workspace(), "h", 2, WHEN,
        RunStatus.OK, WHEN + timedelta(seconds=3), 120, "2 passes", "",
    )  # fmt: skip
    assert decode(RunRecord, encode(record)) == record
    assert record.key.startswith("consolidate/")
    state = TargetState(7, RunStatus.FAILED, 2, record.key, "W1", Scope.dm("u1"), WHEN)
    assert decode(TargetState, encode(state)) == state
    assert (encode(record)["scope"], encode(state)["scope"]) == ("workspace", "dm:u1")
    whole_workspace = replace(state, scope=None)
    assert encode(whole_workspace)["scope"] is None
    assert decode(TargetState, encode(whole_workspace)) == whole_workspace


def test_the_runs_table_shows_errors_in_place_of_notes() -> None:
    ok = RunRecord(
        "r1", "digest", "a/W1/C1/2026-03-02", "W1", Scope.workspace(), "h", 1, WHEN,
        RunStatus.OK, WHEN + timedelta(seconds=2), 900, "digest of 40 messages",
    )  # fmt: skip
    failed = replace(ok, id="r2", status=RunStatus.FAILED, error="model unavailable: 503")
    running = replace(ok, id="r3", status=RunStatus.RUNNING, ended_at=None)
    table = format_runs([ok, failed, running]).splitlines()
    assert table[0].split()[:3] == ["started", "(UTC)", "job"]
    assert table[1].endswith("digest of 40 messages")
    assert " 2.0 " in table[1]
    assert table[2].endswith("model unavailable: 503")
    assert " - " in table[3]
    assert format_runs([]) == "No job runs recorded yet."
