"""The soak, short: a few dozen conversations through the Slack and Discord fakes while every
kind of fault is injected once or more (``tests.e2e.soak``); ``bench/soak.py`` runs hundreds."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.soak import SoakPlan, run_soak

pytestmark = pytest.mark.slow

PLAN = SoakPlan(conversations=40, seed=7, send_seconds=10.0, fault_interval=1.0)
#: Platform and store fault kinds, each injected at least once in ``send_seconds``.
FAULT_KINDS = {
    "bot process SIGKILLed",
    "slack answer after the client's timeout",
    "slack 429 Retry-After",
    "slack 5xx",
    "slack websocket dropped",
    "discord 429 Retry-After",
    "discord 5xx",
    "discord websocket dropped",
    "store locked (SQLite busy)",
}


async def test_every_accepted_message_gets_one_answer_through_injected_faults(
    tmp_path: Path,
) -> None:
    counts = await run_soak(PLAN, tmp_path)
    print(counts.report())
    assert set(counts.faults) >= FAULT_KINDS, counts.faults
    assert any(kind.startswith("model") for kind in counts.faults), counts.faults
    # Slack redelivers until acknowledged; only Discord messages sent to the killed process
    # may never reach the store (Discord does not replay them to a new session either).
    assert counts.accepted >= counts.sent - PLAN.conversations // 4
    assert counts.lost == 0
    assert counts.duplicated == 0
    assert counts.stray == 0
    assert counts.replied + counts.failure_notices == counts.accepted
    assert counts.failure_notices >= 1  # doomed messages end in a notice, not in silence
