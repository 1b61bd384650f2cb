"""Every setting of README's table, given a bad value: the command stops with exit code 2 and
one line naming the variable and what to set, before anything is opened or connected."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.cli import main

README = Path(__file__).resolve().parents[2] / "README.md"
#: Settings of the table any value of which is valid.
ANY_VALUE = {"OPENAI_API_KEY"}


@pytest.fixture(autouse=True)
def no_env_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the variables a test sets count (no .env of the working directory)."""
    monkeypatch.chdir(tmp_path)


BAD_VALUES = [
    ("MNEMO_DATA_DIR", "/proc/nope", "set it to a writable directory"),
    ("MNEMO_HTTP_HOST", "999.1.1.1", "set it to 127.0.0.1"),
    ("MNEMO_HTTP_HOST", "not a host", "set it to 127.0.0.1"),
    ("MNEMO_HTTP_PORT", "70000", "less than or equal to 65535"),
    ("MNEMO_AGENT", "", "set a name"),
    ("MNEMO_MODEL", " ", "set a name"),
    ("MNEMO_LOG_LEVEL", "LOUD", "set one of DEBUG, INFO"),
    ("MONGODB_URI", "notauri", "not a MongoDB URI"),
    ("MONGODB_DATABASE", "", "set a name"),
    ("OPENAI_BASE_URL", "localhost:11434/v1", "set it like http://"),
    ("MNEMO_EMBEDDING_MODEL", "", "at least 1 character"),
    ("MNEMO_EMBEDDING_DIMENSIONS", "0", "greater than 0"),
    ("MNEMO_CONTEXT_BUDGET", "10", "greater than or equal to 1000"),
    ("MNEMO_LLM_TIMEOUT", "0", "greater than 0"),
    ("MNEMO_LLM_REQUEST_TIMEOUT", "-5", "greater than 0"),
    ("MNEMO_WORKERS", "many", "valid integer"),
    ("MNEMO_STOP_DEADLINE", "0.5", "greater than or equal to 1"),
    ("MNEMO_LOG_FORMAT", "xml", "'json' or 'text'"),
    ("SLACK_CHANNEL_POLICY", "loud", "'mention', 'listen' or 'open'"),
    ("MNEMO_JOBS_ENABLED", "maybe", "valid boolean"),
    ("MNEMO_STREAM_REPLIES", "sometimes", "valid boolean"),
    ("MNEMO_HISTORY_DAYS", "-1", "greater than or equal to 0"),
    ("MNEMO_HISTORY_MESSAGES", "0", "greater than or equal to 1"),
    ("MNEMO_HISTORY_ON_JOIN", "maybe", "valid boolean"),
    ("MNEMO_JOBS_CONSOLIDATE_EVERY_S", "0", "greater than 0"),
    ("MNEMO_JOBS_LOOKBACK_HOURS", "-1", "greater than 0"),
]


@pytest.mark.parametrize(("variable", "value", "fix"), BAD_VALUES)
def test_a_bad_setting_is_one_line_naming_it_and_exit_code_2(
    variable: str,
    value: str,
    fix: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(variable, value)

    code = main(["agents", "list"])

    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1
    assert err.startswith(f"mnemo: Invalid settings: {variable}: ")
    assert fix in err
    assert "Value error" not in err


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("MNEMO_HTTP_HOST", "0.0.0.0"),
        ("MNEMO_HTTP_HOST", "::1"),
        ("MNEMO_HTTP_HOST", "bot.internal"),
        ("MNEMO_LOG_LEVEL", "debug"),
        ("MONGODB_URI", ""),
    ],
)
def test_good_values_of_the_checked_settings_pass(
    variable: str, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, value)

    assert main(["agents", "list"]) == 0


def test_every_setting_of_the_readme_table_has_a_bad_value_checked() -> None:
    rows = [line for line in README.read_text().splitlines() if line.startswith("| `")]
    named = {name for row in rows for name in re.findall(r"`([A-Z][A-Z_]+)`", row.split("|")[1])}
    checked = {variable for variable, _, _ in BAD_VALUES}

    assert named, "the settings table moved"
    assert named - checked - ANY_VALUE == set()
