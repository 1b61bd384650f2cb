"""The Prometheus registry the engine and jobs report into."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from bot.metrics import Metrics
from engine.audience import Scope
from engine.observer import Stage, TurnEnd
from jobs.history import RunRecord, RunStatus


def samples(metrics: Metrics) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    text = generate_latest(metrics.registry).decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def run(job: str, status: RunStatus, seconds: float) -> RunRecord:
    started = datetime(2026, 11, 1, tzinfo=UTC)
    return RunRecord(
        id=job + str(seconds),
        job=job,
        target="t",
        workspace="w",
        scope=Scope.workspace(),
        holder="h",
        attempt=1,
        started_at=started,
        status=status,
        ended_at=started + timedelta(seconds=seconds),
    )


def test_job_runs_are_counted_by_job_and_outcome_and_timed() -> None:
    metrics = Metrics()
    metrics.job_run(run("consolidation", RunStatus.OK, 0.4))
    metrics.job_run(run("consolidation", RunStatus.FAILED, 2.0))
    metrics.job_run(run("retention", RunStatus.OK, 0.1))
    found = samples(metrics)
    runs = "mnemo_job_runs_total"
    ok, failed = str(RunStatus.OK), str(RunStatus.FAILED)
    assert found[(runs, frozenset({("job", "consolidation"), ("outcome", ok)}))] == 1
    assert found[(runs, frozenset({("job", "consolidation"), ("outcome", failed)}))] == 1
    assert found[(runs, frozenset({("job", "retention"), ("outcome", ok)}))] == 1
    count = ("mnemo_job_duration_seconds_count", frozenset({("job", "consolidation")}))
    total = ("mnemo_job_duration_seconds_sum", frozenset({("job", "consolidation")}))
    assert (found[count], found[total]) == (2, 2.4)


def test_only_finished_turns_count_towards_turn_latency() -> None:
    metrics = Metrics()
    metrics.turn_finished(TurnEnd.DONE, 0.2)
    metrics.turn_finished(TurnEnd.RETRIED, 30.0)
    metrics.turn_finished(TurnEnd.INTERRUPTED, 9.0)
    metrics.stage_finished(Stage.RECEIVE, 0.001)
    found = samples(metrics)
    assert found[("mnemo_turns_total", frozenset({("outcome", "retried")}))] == 1
    assert found[("mnemo_turns_total", frozenset({("outcome", "failed")}))] == 0
    assert found[("mnemo_turn_duration_seconds_sum", frozenset())] == 0.2
    receive = frozenset({("stage", "receive")})
    assert found[("mnemo_stage_duration_seconds_count", receive)] == 1
    assert found[("mnemo_stage_duration_seconds_count", frozenset({("stage", "turn")}))] == 0
