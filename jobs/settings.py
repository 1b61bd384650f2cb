"""Background job settings: cadences, limits and thresholds, handed in by the bot.

The bot reads them from ``MNEMO_JOBS_*`` variables (``bot.settings``); the jobs never read the
environment themselves.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RecentActivity(_Settings):
    #: How far back consolidation and hygiene look for activity.
    lookback_hours: float = Field(default=72.0, gt=0)


class ConsolidationSettings(RecentActivity):
    consolidate_every_s: float = Field(default=900.0, gt=0)
    #: Only conversations quiet for this long are consolidated (a live talk is left alone).
    idle_minutes: float = Field(default=10.0, ge=0)
    #: Messages one memory pass reads at most; longer backlogs take several passes.
    batch_messages: int = Field(default=60, ge=1)
    #: LLM steps one memory pass may take.
    pass_steps: int = Field(default=6, ge=2)


class HygieneSettings(RecentActivity):
    hygiene_every_s: float = Field(default=3600.0, gt=0)
    #: Cosine similarity at or above which two passages count as the same fact.
    duplicate_similarity: float = Field(default=0.92, gt=0, le=1)


class DigestSettings(_Settings):
    digest_every_s: float = Field(default=3600.0, gt=0)
    #: A channel's day gets a digest when at least this many people's messages were posted.
    digest_min_messages: int = Field(default=30, ge=1)


class RetentionSettings(_Settings):
    retention_every_s: float = Field(default=21_600.0, gt=0)
    #: Days of recall kept by default; 0 keeps everything. Workspaces override it with
    #: ``RetentionPolicies.set``.
    recall_days: int = Field(default=0, ge=0)


class RunLimits(_Settings):
    """What one run may spend, and how many run at once."""

    #: Tokens (prompt + completion) one run may spend.
    token_budget: int = Field(default=20_000, ge=100)
    #: Job runs at once in this process (live turns have their own workers).
    concurrency: int = Field(default=2, ge=1)
    #: A job's model call waits up to this long while live messages are pending.
    yield_to_live_s: float = Field(default=10.0, ge=0)
    #: Run records kept per job.
    history_per_job: int = Field(default=500, ge=1)


class RetrySettings(_Settings):
    """How a run that crashed or failed is tried again."""

    lease_s: float = Field(default=120.0, gt=0)
    #: Attempts of one target in one cadence slot (crashes and failures) before giving up.
    max_attempts: int = Field(default=3, ge=1)
    #: First wait after the model fails; doubles per failure up to ``max_backoff_s``.
    backoff_s: float = Field(default=60.0, ge=0)
    max_backoff_s: float = Field(default=3600.0, ge=0)


class JobSettings(
    ConsolidationSettings,
    HygieneSettings,
    DigestSettings,
    RetentionSettings,
    RunLimits,
    RetrySettings,
):
    """Every job's settings in one flat set, as the ``MNEMO_JOBS_<FIELD>`` variables name
    them; each job and the runner are typed with the part they read."""

    #: Whether ``mnemo run`` schedules the jobs at all (``mnemo jobs run`` always works).
    enabled: bool = True
