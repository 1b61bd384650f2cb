"""What ``mnemo`` prints: reports and listings as plain text for a terminal, where platform
markup (``*bold*``, ``_italic_``, bullets) would show as stray characters."""

from __future__ import annotations

from collections.abc import Sequence

from engine import Agent, ForgetReport, UserMemoryReport, render_forget
from jobs import JobSettings

#: Archival notes listed before the rest are counted.
SHOWN_NOTES = 20


def memory_report_text(report: UserMemoryReport) -> str:
    """What Mnemo keeps about a user, as ``mnemo memory show`` prints it."""
    lines = [f"What Mnemo keeps about {report.user} ({report.workspace})", "", "Notes:"]
    lines += [
        f"  - {label} ({scope.visibility}): {text}" for label, scope, text in report.blocks
    ] or ["  none"]
    lines += ["", f"Archival notes: {len(report.passages)}"]
    lines += [f"  - {text}" for text in report.passages[:SHOWN_NOTES]]
    if len(report.passages) > SHOWN_NOTES:
        lines.append(f"  ... and {len(report.passages) - SHOWN_NOTES} more")
    lines += ["", f"Messages remembered: {report.messages}"]
    return "\n".join(lines)


def forget_summary(user: str, workspace: str, removed: ForgetReport) -> str:
    """The outcome of ``mnemo memory forget``: what was removed, per kind."""
    if removed.total == 0:
        return f"Nothing was kept about {user} in {workspace}; nothing deleted."
    return f"Forgot {user} in {workspace}: removed {render_forget(removed)}."


def agents_table(agents: Sequence[Agent]) -> str:
    """``mnemo agents list``: one agent per line under a header; the version is what
    ``--if-version`` checks."""
    if not agents:
        return "No agents yet: `mnemo agents create NAME` makes one."
    rows = [("NAME", "VERSION", "MODEL", "TAGS", "ID")] + [
        (a.name, str(a.version), a.model, ",".join(a.tags) or "-", a.id) for a in agents
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def nothing_due(job: str, settings: JobSettings) -> str:
    """Why ``mnemo jobs run JOB`` found no work, with the rule that makes work due."""
    if job != "consolidate":
        return f"{job}: nothing to do now"
    return (
        "consolidate: nothing to do now. A conversation is consolidated once it has messages "
        f"not yet consolidated and has been quiet for {settings.idle_minutes:g} minutes "
        f"(MNEMO_JOBS_IDLE_MINUTES), if it was active in the last "
        f"{settings.lookback_hours:g} hours (MNEMO_JOBS_LOOKBACK_HOURS)."
    )
