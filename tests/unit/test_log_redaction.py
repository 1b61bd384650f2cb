"""Log lines never carry a secret: configured values and credential-shaped strings are
redacted in messages, extra fields and tracebacks, in both log formats."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.logging import (
    REDACTED,
    JsonFormatter,
    SecretRedactor,
    TextFormatter,
    configure_logging,
    configured_secrets,
)
from bot.settings import Settings

OPENAI_KEY = "sk-proj-4f9a1c2e7b8d6a5f3e2c1b0a9d8e7f6a"
SLACK_TOKEN = "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUv"
SIGNING_SECRET = "8f14e45fceea167a5a36dedd4bea2543"  # no recognisable shape: only known by value
MONGODB_URI = "mongodb+srv://mnemo:pa55-w0rd@cluster0.example.mongodb.net/?retryWrites=true"


def settings(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "OPENAI_API_KEY": OPENAI_KEY,
        "SLACK_BOT_TOKEN": SLACK_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "MONGODB_URI": MONGODB_URI,
        "MNEMO_DATA_DIR": Path("data"),
    }
    values.update(overrides)
    return Settings.model_validate(values)  # no environment or .env: only these values


def record(message: str, *args: object, **extra: object) -> logging.LogRecord:
    made = logging.LogRecord("mnemo.test", logging.WARNING, __file__, 1, message, args, None)
    made.__dict__.update(extra)
    return made


@pytest.fixture
def root_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    access_level = logging.getLogger("aiohttp.access").level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.getLogger("aiohttp.access").setLevel(access_level)


def test_every_secret_setting_is_known_to_the_redactor() -> None:
    secrets = configured_secrets(settings())
    assert {OPENAI_KEY, SLACK_TOKEN, SIGNING_SECRET, MONGODB_URI} <= set(secrets)


def test_configured_secrets_are_redacted_in_message_extra_fields_and_traceback() -> None:
    formatter = JsonFormatter(SecretRedactor(configured_secrets(settings())))
    try:
        raise RuntimeError(f"signature check failed with {SIGNING_SECRET}")
    except RuntimeError:
        failing = record("calling %s with %s", "the model", OPENAI_KEY, token=SLACK_TOKEN)
        failing.exc_info = sys.exc_info()
    line = formatter.format(failing)
    parsed = json.loads(line)
    for secret in (OPENAI_KEY, SLACK_TOKEN, SIGNING_SECRET):
        assert secret not in line
    assert parsed["message"] == f"calling the model with {REDACTED}"
    assert parsed["token"] == REDACTED
    assert f"signature check failed with {REDACTED}" in parsed["exception"]
    assert parsed["level"] == "warning"
    assert parsed["logger"] == "mnemo.test"


@pytest.mark.parametrize(
    ("leaked", "kept"),
    [
        ("token xoxb-99999999-88888888-zZyYxXwWvV", "token "),
        ("app token xapp-1-A0123456789-1234567890-abcdef0123", "app token "),
        ("key sk-abcdefghijklmnopqrstuvwx", "key "),
        ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig", "Authorization: "),
        (
            "discord MTEyMzQ1Njc4OTAxMjM0NTY3OA.GhIjKl.abcdefghijklmnopqrstuvwxyz1234567",
            "discord ",
        ),
    ],
)
def test_credential_shaped_strings_are_redacted_even_when_not_configured(
    leaked: str, kept: str
) -> None:
    assert SecretRedactor().redact(leaked) == kept + REDACTED


def test_a_uri_keeps_its_host_and_loses_its_password() -> None:
    redacted = SecretRedactor().redact("connecting to mongodb://bot:s3cret@db.internal:27017/x")
    assert redacted == f"connecting to mongodb://{REDACTED}@db.internal:27017/x"


def test_ordinary_text_and_short_values_are_left_alone() -> None:
    redactor = SecretRedactor(["abc", "mnemo-http"])
    assert redactor.redact("abc skipped, task-force ok") == "abc skipped, task-force ok"
    assert redactor.redact("serving mnemo-http") == f"serving {REDACTED}"


def test_text_lines_are_redacted_like_json_lines() -> None:
    formatter = TextFormatter(SecretRedactor(configured_secrets(settings())))
    line = formatter.format(record("uri is %s", MONGODB_URI))
    assert MONGODB_URI not in line
    assert "pa55-w0rd" not in line
    assert line.endswith(f"WARNING mnemo.test: uri is {REDACTED}")


@pytest.mark.usefixtures("root_logging")
def test_configured_logging_writes_redacted_json_lines_at_the_chosen_level() -> None:
    stream = io.StringIO()
    configure_logging(settings(MNEMO_LOG_FORMAT="json", MNEMO_LOG_LEVEL="warning"), stream)
    log = logging.getLogger("mnemo.test")
    log.info("not shown")
    log.warning("retrying with key %s", OPENAI_KEY, extra={"attempt": 2})
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    parsed = json.loads(lines[0])
    assert parsed["message"] == f"retrying with key {REDACTED}"
    assert parsed["attempt"] == 2
    assert logging.getLogger("aiohttp.access").getEffectiveLevel() == logging.WARNING
