"""Settings are read once, by the bot: a bad value is named by its variable, the jobs' too."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.settings import SettingsError, load_settings
from jobs import JobSettings


@pytest.fixture(autouse=True)
def no_env_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the variables a test sets count (no .env of the working directory)."""
    monkeypatch.chdir(tmp_path)


def test_job_variables_reach_the_jobs_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MNEMO_JOBS_TOKEN_BUDGET", "5000")
    monkeypatch.setenv("MNEMO_JOBS_IDLE_MINUTES", "2")
    monkeypatch.setenv("MNEMO_JOBS_ENABLED", "false")
    jobs = load_settings().jobs
    assert (jobs.token_budget, jobs.idle_minutes, jobs.enabled) == (5000, 2, False)
    assert jobs.lease_s == JobSettings().lease_s


def test_job_variables_are_read_from_the_env_file_too(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("MNEMO_JOBS_BATCH_MESSAGES=7\nMNEMO_MODEL=m\n")
    settings = load_settings()
    assert (settings.jobs.batch_messages, settings.model) == (7, "m")


def test_a_bad_job_setting_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MNEMO_JOBS_TOKEN_BUDGET", "5")
    monkeypatch.setenv("MNEMO_JOBS_IDLE_MINUTES", "2")
    with pytest.raises(SettingsError, match="MNEMO_JOBS_TOKEN_BUDGET: Input should be"):
        load_settings()
    monkeypatch.setenv("MNEMO_JOBS_TOKEN_BUDGET", "5000")
    assert (load_settings().jobs.token_budget, load_settings().jobs.idle_minutes) == (5000, 2)


def test_every_bad_value_is_named_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MNEMO_WORKERS", "0")
    monkeypatch.setenv("MNEMO_JOBS_CONCURRENCY", "none")
    with pytest.raises(SettingsError) as raised:
        load_settings()
    assert "MNEMO_WORKERS:" in str(raised.value)
    assert "MNEMO_JOBS_CONCURRENCY:" in str(raised.value)


def test_the_cli_exits_2_naming_a_bad_job_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MNEMO_JOBS_LEASE_S", "-1")
    assert main(["jobs", "list"]) == 2
    assert "MNEMO_JOBS_LEASE_S" in capsys.readouterr().err


def test_job_settings_are_never_read_as_one_json_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MNEMO_JOBS", '{"token_budget": 5000}')
    with pytest.raises(SettingsError, match=r"MNEMO_JOBS: .*MNEMO_JOBS_TOKEN_BUDGET=5000"):
        load_settings()


def test_a_misspelt_job_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MNEMO_JOBS_TOKEN_BUDGT", "5000")
    with pytest.raises(SettingsError, match="MNEMO_JOBS_TOKEN_BUDGT: Extra inputs"):
        load_settings()
