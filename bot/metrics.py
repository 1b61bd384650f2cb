"""Prometheus metrics of one bot process, served on ``/metrics``.

Each process has its own registry (not prometheus_client's global one), so several runtimes in
one test process never collide. Counters the engine keeps itself (the LLM client's totals, the
inbox depth) are read when scraped rather than copied on every change.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from engine import Engine, InboxStore, LLMClient, RunRecord, Stage, TurnEnd

log = logging.getLogger(__name__)

#: What ``/metrics`` answers with (Prometheus text format 0.0.4).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
#: Seconds a scrape waits for the store's inbox count before reporting the last one.
DEPTH_TIMEOUT = 2.0
#: From a millisecond of engine time to a five-minute turn.
LATENCY_BUCKETS = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
    120.0,
    300.0,
)


@dataclass(frozen=True, slots=True)
class Family:
    """One metric family of this process: its name, what it measures, and its labels."""

    name: str
    doc: str
    labels: tuple[str, ...] = ()


TURNS = Family("mnemo_turns", "Turn attempts, by how they ended", ("outcome",))
TURN_SECONDS = Family(
    "mnemo_turn_duration_seconds",
    "Seconds from taking a conversation's items to delivering the replies",
)
STAGE_SECONDS = Family(
    "mnemo_stage_duration_seconds",
    "Seconds per pipeline stage (receive, turn, apply, deliver)",
    ("stage",),
)
JOB_RUNS = Family("mnemo_job_runs", "Scheduled job runs, by outcome", ("job", "outcome"))
JOB_SECONDS = Family("mnemo_job_duration_seconds", "Seconds per scheduled job run", ("job",))
INBOX_PENDING = Family(
    "mnemo_inbox_pending", "Messages waiting for a turn, across every process sharing the store"
)
CONVERSATIONS_RUNNING = Family(
    "mnemo_conversations_running", "Conversations this process is serving"
)
CONVERSATIONS_WAITING = Family(
    "mnemo_conversations_waiting",
    "Conversations with work waiting for a free worker in this process",
)
EVENTS_REJECTED = Family(
    "mnemo_events_rejected",
    "Platform events an adapter could not read (kept for the inspector), by platform",
    ("platform",),
)
REPLIES_RATED = Family(
    "mnemo_replies_rated",
    "Ratings people gave the agent's replies (feedback buttons), by platform and rating",
    ("platform", "rating"),
)


class LLMCollector(Collector):
    """The LLM client's own counters (requests, retries, failures, tokens), read per scrape."""

    def __init__(self, llm: LLMClient) -> None:
        self._llm = llm

    def collect(self) -> Iterator[Metric]:
        totals = self._llm.totals
        yield CounterMetricFamily(
            "mnemo_llm_requests", "Chat-completion requests sent", value=totals.requests
        )
        yield CounterMetricFamily(
            "mnemo_llm_retries",
            "Requests retried after a rate limit or error",
            value=totals.retries,
        )
        yield CounterMetricFamily(
            "mnemo_llm_errors",
            "Model steps that failed for good (rejected, or unavailable past the retry budget)",
            value=totals.failures,
        )
        yield GaugeMetricFamily(
            "mnemo_llm_failing_steps",
            "Model steps in a row that failed for good (0 after a success); readiness fails from 3",
            value=self._llm.failing_steps,
        )
        tokens = CounterMetricFamily("mnemo_llm_tokens", "Tokens used", labels=["kind"])
        tokens.add_metric(["prompt"], totals.usage.prompt_tokens)
        tokens.add_metric(["completion"], totals.usage.completion_tokens)
        yield tokens


class GatewayRestartCollector(Collector):
    """Discord gateway connections restarted after errors discord.py does not handle."""

    def __init__(self, restarts: Callable[[], int]) -> None:
        self._restarts = restarts

    def collect(self) -> Iterator[Metric]:
        yield CounterMetricFamily(
            "mnemo_gateway_restarts",
            "Discord gateway connections restarted after an unexpected error",
            value=self._restarts(),
        )


class Metrics:
    """Receives the engine's and the jobs' reports and exposes them with the queue depth."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._turns = self._counter(TURNS)
        self._turn_seconds = self._histogram(TURN_SECONDS)
        self._stage_seconds = self._histogram(STAGE_SECONDS)
        self._job_runs = self._counter(JOB_RUNS)
        self._job_seconds = self._histogram(JOB_SECONDS)
        self._inbox_pending = self._gauge(INBOX_PENDING)
        self._running = self._gauge(CONVERSATIONS_RUNNING)
        self._waiting = self._gauge(CONVERSATIONS_WAITING)
        self._rejected = self._counter(EVENTS_REJECTED)
        self._ratings = self._counter(REPLIES_RATED)
        for stage in Stage:
            self._stage_seconds.labels(stage.value)
        for end in TurnEnd:
            self._turns.labels(end.value)

    # -- the metric families, each in this process's registry ------------------------------------

    def _counter(self, family: Family) -> Counter:
        return Counter(family.name, family.doc, family.labels, registry=self.registry)

    def _histogram(self, family: Family) -> Histogram:
        return Histogram(
            family.name, family.doc, family.labels, buckets=LATENCY_BUCKETS, registry=self.registry
        )

    def _gauge(self, family: Family) -> Gauge:
        return Gauge(family.name, family.doc, family.labels, registry=self.registry)

    # -- what the engine and jobs report ----------------------------------------------------------

    def stage_finished(self, stage: Stage, seconds: float) -> None:
        self._stage_seconds.labels(stage.value).observe(seconds)

    def turn_finished(self, end: TurnEnd, seconds: float) -> None:
        self._turns.labels(end.value).inc()
        if end is TurnEnd.DONE or end is TurnEnd.FAILED:
            self._turn_seconds.observe(seconds)

    def event_rejected(self, platform: str, reason: str) -> None:
        # The reason is free text: it goes to the inspector, not into a label.
        self._rejected.labels(platform).inc()

    def reply_rated(self, platform: str, rating: str) -> None:
        self._ratings.labels(platform, rating).inc()

    def job_run(self, run: RunRecord) -> None:
        """A background job run was recorded (jobs' ``on_finished`` hook)."""
        self._job_runs.labels(run.job, str(run.status)).inc()
        if run.ended_at is not None:
            self._job_seconds.labels(run.job).observe(
                (run.ended_at - run.started_at).total_seconds()
            )

    # -- exposition -------------------------------------------------------------------------------

    def watch_llm(self, llm: LLMClient) -> None:
        self.registry.register(LLMCollector(llm))

    def watch_gateway_restarts(self, restarts: Callable[[], int]) -> None:
        """Count the bots' gateway restarts after errors, read from the bots per scrape."""
        self.registry.register(GatewayRestartCollector(restarts))

    async def exposition(self, engine: Engine, inbox: InboxStore) -> bytes:
        """The text ``/metrics`` serves, with the queue gauges read now."""
        self._running.set(engine.running_turns)
        self._waiting.set(engine.waiting_conversations)
        try:
            async with asyncio.timeout(DEPTH_TIMEOUT):
                self._inbox_pending.set(await inbox.depth())
        except Exception as exc:  # a slow or down store must not fail the scrape
            log.warning("reading the inbox depth for metrics failed: %s", type(exc).__name__)
        return generate_latest(self.registry)
