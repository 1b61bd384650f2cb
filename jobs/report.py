"""Recorded runs as a table for the operator (``mnemo jobs list``)."""

from __future__ import annotations

from collections.abc import Sequence

from jobs.history import RunRecord

_HEADER = ("started (UTC)", "job", "target", "status", "try", "seconds", "tokens", "note")


def format_runs(records: Sequence[RunRecord]) -> str:
    """One line per run, newest first as given; the note is the error when there was one."""
    if not records:
        return "No job runs recorded yet."
    rows = [_HEADER]
    for r in records:
        seconds = f"{(r.ended_at - r.started_at).total_seconds():.1f}" if r.ended_at else "-"
        rows.append(
            (
                f"{r.started_at:%Y-%m-%d %H:%M:%S}",
                r.job,
                r.target,
                r.status.value,
                str(r.attempt),
                seconds,
                str(r.tokens),
                r.error or r.detail,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(_HEADER) - 1)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True))
        + f"  {row[-1]}"
        for row in rows
    )
