"""Fault-injection soak: hundreds of conversations through the Slack and Discord fakes into a
real ``mnemo run`` process while the model, the platforms and the store fail on purpose
(``tests.e2e.soak`` describes the faults), then the counts: every accepted message must have
exactly one reply or one failure notice, and nothing may be posted twice.

    .venv/bin/python -m bench.soak [--conversations 200] [--seconds 25] [--seed 1]

Exits 1 when a message was lost or a reply was posted twice.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import tempfile
from pathlib import Path

from tests.e2e.soak import SoakPlan, run_soak


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=25.0, help="over which they are sent")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    # A SIGKILLed bot leaves half-sent requests at the fakes; their servers' tracebacks about
    # it are the fault working, not a finding.
    logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)
    plan = SoakPlan(
        conversations=args.conversations,
        seed=args.seed,
        send_seconds=args.seconds,
        settle_timeout=max(90.0, args.seconds),
    )
    with tempfile.TemporaryDirectory(prefix="mnemo-soak-") as workdir:
        counts = asyncio.run(run_soak(plan, Path(workdir)))
    print(counts.report())
    return 1 if counts.lost or counts.duplicated or counts.stray else 0


if __name__ == "__main__":
    raise SystemExit(main())
