"""discord.py's reconnect attempts, logged once per outage instead of a traceback per try.

While the gateway is unreachable discord.py retries with backoff and logs every attempt with
the whole traceback. ``ReconnectLog`` turns the first attempt of an outage (and any attempt
whose cause differs from the last one) into one warning line, drops the repeats, and says
once when the gateway is back.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)

#: discord.py's loggers and the start of their per-attempt reconnect messages.
_RECONNECT_MESSAGES = {
    "discord.client": "Attempting a reconnect in",
    "discord.shard": "Attempting a reconnect for shard ID",
}


class ReconnectLog(logging.Filter):
    """A filter on discord.py's loggers; ``connected`` marks the end of an outage."""

    def __init__(self) -> None:
        super().__init__()
        self._cause: str | None = None

    def install(self) -> None:
        for name in _RECONNECT_MESSAGES:
            logger = logging.getLogger(name)
            if self not in logger.filters:
                logger.addFilter(self)

    def connected(self) -> None:
        if self._cause is not None:
            log.info("discord gateway reconnected")
        self._cause = None

    def filter(self, record: logging.LogRecord) -> bool:
        start = _RECONNECT_MESSAGES.get(record.name)
        if start is None or not str(record.msg).startswith(start):
            return True
        error = record.exc_info[1] if record.exc_info else None
        cause = f"{type(error).__name__}: {error}" if error is not None else "unknown cause"
        if cause == self._cause:
            return False
        self._cause = cause
        record.msg, record.args = (
            "discord gateway unreachable (%s); reconnecting with backoff",
            (cause,),
        )
        record.exc_info, record.exc_text = None, None
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


#: One per process: discord.py's loggers are shared by every bot in it.
RECONNECTS = ReconnectLog()
