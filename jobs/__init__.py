"""Scheduled background work (DESIGN §1): consolidation, archival hygiene, digests, retention.

Every replica schedules every job; leases and recorded state in the store make each run
happen once across them.
"""

from jobs.build import build_jobs
from jobs.forget import UserDataWithJobRecords
from jobs.history import JobHistory, RunRecord, RunStatus
from jobs.job import Job, RunContext, Target
from jobs.report import format_runs
from jobs.retention import RetentionPolicies
from jobs.runner import JobRunner
from jobs.scheduler import JobScheduler
from jobs.settings import JobSettings

__all__ = [
    "Job",
    "JobHistory",
    "JobRunner",
    "JobScheduler",
    "JobSettings",
    "RetentionPolicies",
    "RunContext",
    "RunRecord",
    "RunStatus",
    "Target",
    "UserDataWithJobRecords",
    "build_jobs",
    "format_runs",
]
