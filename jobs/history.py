"""What the jobs did: one record per run, and the state of each (job, target) between runs.

Both live in the store's key-value documents, so every replica and the CLI see the same
history: ``job_runs`` holds run records (newest kept per job), ``job_state`` the last outcome
of each target, ``job_backoff`` the wait a job observes after the model failed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from engine import JSON, KeyValueStore, Scope, decode_datetime, encode_datetime

RUNS = "job_runs"
STATES = "job_state"
BACKOFFS = "job_backoff"


class RunStatus(StrEnum):
    RUNNING = "running"
    OK = "ok"
    #: Stopped at the token budget; the next slot goes on from the saved checkpoint.
    OVER_BUDGET = "over_budget"
    FAILED = "failed"
    #: Its process died while it ran; the lease expired and another run took over.
    CRASHED = "crashed"


#: Outcomes that settle a target for its cadence slot.
SETTLED = frozenset({RunStatus.OK, RunStatus.OVER_BUDGET})


def _scope_to_doc(scope: Scope | None) -> str:
    return "" if scope is None else str(scope)


def _scope_from_doc(doc: JSON) -> Scope | None:
    """The scope a run record or target state was stored with ("" for a whole workspace)."""
    text = doc.get("scope", "")
    return Scope.parse(text) if text else None


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One run of a job on one target (a conversation, a channel's day, a workspace)."""

    id: str
    job: str
    target: str
    workspace: str
    scope: Scope | None
    holder: str
    attempt: int
    started_at: datetime
    status: RunStatus = RunStatus.RUNNING
    ended_at: datetime | None = None
    tokens: int = 0
    detail: str = ""
    error: str = ""

    @property
    def key(self) -> str:
        micros = int(self.started_at.timestamp() * 1_000_000)
        return f"{self.job}/{micros:020d}-{self.id}"

    def to_doc(self) -> JSON:
        return {
            "id": self.id,
            "job": self.job,
            "target": self.target,
            "workspace": self.workspace,
            "scope": _scope_to_doc(self.scope),
            "holder": self.holder,
            "attempt": self.attempt,
            "started_at": encode_datetime(self.started_at),
            "status": self.status.value,
            "ended_at": encode_datetime(self.ended_at) if self.ended_at else None,
            "tokens": self.tokens,
            "detail": self.detail,
            "error": self.error,
        }

    @classmethod
    def from_doc(cls, doc: JSON) -> RunRecord:
        return cls(
            id=doc["id"],
            job=doc["job"],
            target=doc["target"],
            workspace=doc["workspace"],
            scope=_scope_from_doc(doc),
            holder=doc["holder"],
            attempt=int(doc["attempt"]),
            started_at=decode_datetime(doc["started_at"]),
            status=RunStatus(doc["status"]),
            ended_at=decode_datetime(doc["ended_at"]) if doc.get("ended_at") else None,
            tokens=int(doc.get("tokens", 0)),
            detail=doc.get("detail", ""),
            error=doc.get("error", ""),
        )


@dataclass(frozen=True, slots=True)
class TargetState:
    """The last run of a (job, target): which cadence slot, how it ended, how often tried."""

    slot: int
    status: RunStatus
    attempts: int
    run_key: str
    workspace: str
    scope: Scope | None
    retry_at: datetime | None = None

    def to_doc(self) -> JSON:
        return {
            "slot": self.slot,
            "status": self.status.value,
            "attempts": self.attempts,
            "run_key": self.run_key,
            "workspace": self.workspace,
            "scope": _scope_to_doc(self.scope),
            "retry_at": encode_datetime(self.retry_at) if self.retry_at else None,
        }

    @classmethod
    def from_doc(cls, doc: JSON) -> TargetState:
        return cls(
            slot=int(doc["slot"]),
            status=RunStatus(doc["status"]),
            attempts=int(doc["attempts"]),
            run_key=doc["run_key"],
            workspace=doc.get("workspace", ""),
            scope=_scope_from_doc(doc),
            retry_at=decode_datetime(doc["retry_at"]) if doc.get("retry_at") else None,
        )


@dataclass(frozen=True, slots=True)
class Backoff:
    failures: int
    retry_at: datetime


class JobHistory:
    """Run records and target states in the key-value store."""

    def __init__(self, kv: KeyValueStore) -> None:
        self._kv = kv

    async def state(self, job: str, target: str) -> TargetState | None:
        doc = await self._kv.get(STATES, f"{job}:{target}")
        return None if doc is None else TargetState.from_doc(doc)

    async def save_state(self, job: str, target: str, state: TargetState) -> None:
        await self._kv.put(STATES, f"{job}:{target}", state.to_doc())

    async def save_run(self, record: RunRecord) -> None:
        await self._kv.put(RUNS, record.key, record.to_doc())

    async def run(self, key: str) -> RunRecord | None:
        doc = await self._kv.get(RUNS, key)
        return None if doc is None else RunRecord.from_doc(doc)

    async def mark_crashed(self, state: TargetState, now: datetime) -> None:
        """Close the record of a run whose process died (its lease expired while running)."""
        record = await self.run(state.run_key)
        if record is not None and record.status is RunStatus.RUNNING:
            await self.save_run(
                replace(record, status=RunStatus.CRASHED, ended_at=now, error="lease expired")
            )

    async def runs(self, job: str | None = None, limit: int = 50) -> list[RunRecord]:
        """Recorded runs, newest first."""
        entries = await self._kv.list(RUNS, f"{job}/" if job else "")
        records = [RunRecord.from_doc(doc) for _, doc in entries]
        records.sort(key=lambda r: r.started_at, reverse=True)
        return records[:limit]

    async def prune(self, job: str, keep: int) -> int:
        """Drop a job's oldest records beyond the newest ``keep``."""
        keys = [key for key, _ in await self._kv.list(RUNS, f"{job}/")]
        stale = keys[: max(0, len(keys) - keep)]
        for key in stale:
            await self._kv.delete(RUNS, key)
        return len(stale)

    async def backoff(self, job: str) -> Backoff | None:
        doc = await self._kv.get(BACKOFFS, job)
        if doc is None:
            return None
        return Backoff(int(doc["failures"]), decode_datetime(doc["retry_at"]))

    async def set_backoff(self, job: str, backoff: Backoff) -> None:
        await self._kv.put(
            BACKOFFS,
            job,
            {"failures": backoff.failures, "retry_at": encode_datetime(backoff.retry_at)},
        )

    async def clear_backoff(self, job: str) -> None:
        await self._kv.delete(BACKOFFS, job)

    async def forget_user(self, workspace: str, user: str) -> int:
        """Delete the records and states of runs over a user's direct messages."""
        private = _scope_to_doc(Scope.dm(user))
        removed = 0
        for namespace in (RUNS, STATES):
            for key, doc in await self._kv.list(namespace):
                if doc.get("workspace") == workspace and doc.get("scope") == private:
                    removed += await self._kv.delete(namespace, key)
        return removed
