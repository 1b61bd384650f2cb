"""When a Slack message was sent, from its ``ts``, kept sane: the platform's clock is trusted
only within a day of ours, and a time before Slack existed is kept but flagged in the log."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

log = logging.getLogger(__name__)

#: How far ahead of our clock a platform timestamp may be (clock skew, not the far future).
FUTURE_SLACK = timedelta(days=1)
#: Slack had no messages before this; an older ts is a forged or broken one.
SLACK_EPOCH = datetime(2013, 1, 1, tzinfo=UTC)
#: Older times than this are read as this (a datetime cannot go back forever).
_EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)


def sent_at_of(ts: str, received_at: datetime) -> datetime:
    """The send time a validated ``ts`` (digits, a dot, digits) stands for; one more than a day
    after ``received_at`` is clamped to it, one before 1900 read as 1900."""
    seconds = float(ts)
    if seconds > (received_at + FUTURE_SLACK).timestamp():
        log.warning("slack ts %.40s is in the future; using the time it was received", ts)
        return received_at
    sent_at = datetime.fromtimestamp(max(seconds, _EARLIEST.timestamp()), UTC)
    if sent_at < SLACK_EPOCH:
        log.warning("slack ts %.40s is from before Slack existed; kept as sent", ts)
    return sent_at
