"""Log output of a bot process: JSON lines or text on stderr, with secrets redacted.

Every line passes through a ``SecretRedactor`` before it is written: the configured secrets
themselves (tokens, keys, the MongoDB URI) and anything shaped like a credential (Slack and
OpenAI tokens, Discord bot tokens, bearer headers, passwords in URIs), in the message, in
extra fields and in tracebacks.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TextIO

from pydantic import SecretStr

from bot.settings import Settings

REDACTED = "[redacted]"
#: Shorter configured values are not treated as secrets: they would redact common words.
MIN_SECRET_LENGTH = 6

CREDENTIAL_SHAPES = re.compile(
    r"""
      xox[abposer]-[A-Za-z0-9-]{8,}                   # Slack bot, user and refresh tokens
    | xapp-[A-Za-z0-9-]{8,}                           # Slack app-level tokens
    | sk-[A-Za-z0-9_-]{16,}                           # OpenAI-style API keys
    | [MNO][A-Za-z0-9_-]{23,27}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,}   # Discord bot tokens
    | (?i:bearer|bot)\s+[A-Za-z0-9._~+/-]{16,}=*      # Authorization header values
    | (?<=://)[^/\s:@]+:[^/\s@]+(?=@)                 # user:password in a URI
    """,
    re.VERBOSE,
)

#: Attributes every ``LogRecord`` has; anything else was passed as ``extra=`` and is logged.
_RECORD_ATTRIBUTES = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__.keys() | {"message", "asctime"}
)


class SecretRedactor:
    """Replaces known secret values and credential-shaped strings with ``[redacted]``."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        known = sorted({s for s in secrets if len(s) >= MIN_SECRET_LENGTH}, key=len, reverse=True)
        self._known = re.compile("|".join(map(re.escape, known))) if known else None

    def redact(self, text: str) -> str:
        if self._known is not None:
            text = self._known.sub(REDACTED, text)
        return CREDENTIAL_SHAPES.sub(REDACTED, text)


def configured_secrets(settings: Settings) -> list[str]:
    """Every secret setting's value (tokens, keys, signing secrets, the MongoDB URI)."""
    return [
        value.get_secret_value()
        for name in type(settings).model_fields
        if isinstance(value := getattr(settings, name), SecretStr)
    ]


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, extra fields, traceback."""

    def __init__(self, redactor: SecretRedactor) -> None:
        super().__init__()
        self._redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": self._redactor.redact(record.getMessage()),
        }
        for key, value in record.__dict__.items():
            if key not in _RECORD_ATTRIBUTES and key not in line:
                line[key] = self._field(value)
        if record.exc_info:
            line["exception"] = self._redactor.redact(self.formatException(record.exc_info))
        elif record.exc_text:
            line["exception"] = self._redactor.redact(record.exc_text)
        return json.dumps(line, ensure_ascii=False)

    def _field(self, value: object) -> object:
        if isinstance(value, bool | int | float) or value is None:
            return value
        return self._redactor.redact(value if isinstance(value, str) else repr(value))


class TextFormatter(logging.Formatter):
    """Human-readable lines for a terminal, redacted like the JSON ones."""

    def __init__(self, redactor: SecretRedactor) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")
        self._redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        return self._redactor.redact(super().format(record))


def configure_logging(settings: Settings, stream: TextIO | None = None) -> None:
    """Send every log record to ``stream`` (stderr) in the configured format and level."""
    redactor = SecretRedactor(configured_secrets(settings))
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(
        JsonFormatter(redactor) if settings.log_format == "json" else TextFormatter(redactor)
    )
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    level = logging.getLevelNamesMapping().get(settings.log_level.upper(), logging.INFO)
    root.setLevel(level)
    # One line per health check or scrape drowns everything else; debug level keeps them.
    logging.getLogger("aiohttp.access").setLevel(max(level, logging.WARNING))
    # So do one line per model request and per scheduled job tick.
    for chatty in ("httpx", "httpx2", "apscheduler"):
        logging.getLogger(chatty).setLevel(max(level, logging.WARNING))
