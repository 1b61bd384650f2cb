"""What a scheduled job is: a name, a cadence, the targets due now, and one run per target."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from engine import Embedder, Message, RunRecord, Scope, Store, new_id
from jobs.budget import BudgetedModel


@dataclass(frozen=True, slots=True)
class Target[T]:
    """One unit of a job's work; ``key`` names it in leases and run records."""

    key: str
    workspace: str
    #: The scope of the records the run reads (so ``forget`` finds runs over a user's DMs);
    #: None for work over a whole workspace.
    scope: Scope | None
    value: T

    def new_run(self, job: str, holder: str, attempt: int, now: datetime) -> RunRecord:
        """The record of a run of ``job`` over this target, starting ``now``."""
        return RunRecord(new_id(), job, self.key, self.workspace, self.scope, holder, attempt, now)


@dataclass(frozen=True, slots=True)
class RunContext:
    """What one run may use: the model under its budget, and the time it started; and the
    messages it read, whose forgets while it ran win over what it wrote from them."""

    model: BudgetedModel
    now: datetime
    read: dict[str, Message] = field(default_factory=dict)

    def reads(self, messages: Iterable[Message]) -> None:
        """The run writes what it derives from these messages (as stored, never clipped):
        were one forgotten or edited before the run ends, what was derived from it is
        forgotten once the run has written it."""
        self.read.update((m.id, m) for m in messages)


class Job[T](Protocol):
    @property
    def name(self) -> str: ...

    @property
    def cadence_s(self) -> float:
        """Seconds between runs; replicas share the slots this cuts time into."""
        ...

    async def targets(self, now: datetime) -> Sequence[Target[T]]:
        """The work due now (cheap reads only)."""
        ...

    async def run(self, target: T, ctx: RunContext) -> str:
        """Do one target's work; returns a short note for the run record."""
        ...


class MemoryJob[S]:
    """The common ground of the memory jobs: the store they read and write, the embedder for
    the passages they keep, their own settings, and how often they run."""

    def __init__(self, store: Store, embedder: Embedder, settings: S, cadence_s: float) -> None:
        self._store = store
        self._embedder = embedder
        self._settings = settings
        #: Seconds between runs; replicas share the slots this cuts time into.
        self.cadence_s = cadence_s
