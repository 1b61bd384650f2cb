"""Settings from the environment, validated at start-up with errors that name the setting."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from jobs import JobSettings

ChannelPolicy = Literal["mention", "listen", "open"]


class SettingsError(Exception):
    """A setting is missing or wrong; the message says which and how to fix it."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    #: The background jobs' settings, from the ``MNEMO_JOBS_*`` variables (``load_settings``).
    jobs: JobSettings = Field(default_factory=JobSettings, alias="MNEMO_JOBS")

    # Model endpoint
    openai_api_key: SecretStr | None = Field(default=None, alias="OPENAI_API_KEY")
    openai_base_url: str | None = Field(default=None, alias="OPENAI_BASE_URL")
    model: str = Field(default="gpt-4o-mini", alias="MNEMO_MODEL")
    #: "local" (the embedded model) or an embeddings model name served by the endpoint.
    embedding_model: str = Field(default="local", alias="MNEMO_EMBEDDING_MODEL")
    llm_timeout: float = Field(default=60.0, gt=0, alias="MNEMO_LLM_TIMEOUT")

    # Storage
    mongodb_uri: SecretStr | None = Field(default=None, alias="MONGODB_URI")
    mongodb_database: str = Field(default="mnemo", alias="MONGODB_DATABASE")
    data_dir: Path = Field(default=Path("data"), alias="MNEMO_DATA_DIR")

    # Agents
    agent_name: str = Field(default="mnemo", alias="MNEMO_AGENT")
    agents_file: Path | None = Field(default=None, alias="MNEMO_AGENTS_FILE")
    context_budget: int = Field(default=16_000, ge=1_000, alias="MNEMO_CONTEXT_BUDGET")

    # Pipeline
    workers: int = Field(default=32, ge=1, alias="MNEMO_WORKERS")

    # HTTP server (health, metrics, Slack HTTP events, inspector)
    http_host: str = Field(default="127.0.0.1", alias="MNEMO_HTTP_HOST")
    http_port: int = Field(default=8080, ge=0, le=65535, alias="MNEMO_HTTP_PORT")
    inspector_token: SecretStr | None = Field(default=None, alias="MNEMO_INSPECTOR_TOKEN")

    # Slack
    slack_bot_token: SecretStr | None = Field(default=None, alias="SLACK_BOT_TOKEN")
    slack_app_token: SecretStr | None = Field(default=None, alias="SLACK_APP_TOKEN")
    slack_signing_secret: SecretStr | None = Field(default=None, alias="SLACK_SIGNING_SECRET")
    slack_client_id: str | None = Field(default=None, alias="SLACK_CLIENT_ID")
    slack_client_secret: SecretStr | None = Field(default=None, alias="SLACK_CLIENT_SECRET")
    slack_channel_policy: ChannelPolicy = Field(default="mention", alias="SLACK_CHANNEL_POLICY")
    #: Per-channel overrides: "C0123=listen,C0456=open".
    slack_channel_policies: str = Field(default="", alias="SLACK_CHANNEL_POLICIES")

    # Discord
    discord_token: SecretStr | None = Field(default=None, alias="DISCORD_TOKEN")
    discord_channel_policy: ChannelPolicy = Field(default="mention", alias="DISCORD_CHANNEL_POLICY")
    #: Per-channel overrides: "123456789=listen,987654321=open".
    discord_channel_policies: str = Field(default="", alias="DISCORD_CHANNEL_POLICIES")
    discord_message_content: bool = Field(default=False, alias="DISCORD_MESSAGE_CONTENT")
    discord_sharded: bool = Field(default=False, alias="DISCORD_SHARDED")

    log_format: Literal["json", "text"] = Field(default="text", alias="MNEMO_LOG_FORMAT")
    log_level: str = Field(default="INFO", alias="MNEMO_LOG_LEVEL")

    @field_validator("openai_base_url", "mongodb_uri", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("slack_channel_policies", "discord_channel_policies")
    @classmethod
    def _policy_overrides(cls, value: str) -> str:
        parse_policies(value)
        return value

    @property
    def llm_configured(self) -> bool:
        return self.openai_api_key is not None or self.openai_base_url is not None

    @property
    def openai_api_key_value(self) -> str | None:
        return self.openai_api_key.get_secret_value() if self.openai_api_key else None

    @property
    def mongodb_uri_value(self) -> str | None:
        return self.mongodb_uri.get_secret_value() if self.mongodb_uri else None

    def require_llm(self) -> None:
        if not self.llm_configured:
            raise SettingsError(
                "No model endpoint is configured: set OPENAI_API_KEY (OpenAI) or "
                "OPENAI_BASE_URL (any OpenAI-compatible server, e.g. http://localhost:11434/v1)."
            )


def parse_policies(text: str) -> dict[str, ChannelPolicy]:
    """ "C1=listen,C2=open" -> {"C1": "listen", "C2": "open"}."""
    policies: dict[str, ChannelPolicy] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        channel, _, policy = item.partition("=")
        if policy not in ("mention", "listen", "open") or not channel.strip():
            raise ValueError(f"{item!r} is not CHANNEL=mention|listen|open")
        policies[channel.strip()] = policy  # type: ignore[assignment]
    return policies


JOB_VARIABLES = "MNEMO_JOBS_"


class _JobVariables(BaseSettings, JobSettings):
    """The jobs' settings as ``MNEMO_JOBS_<FIELD>`` variables (and .env)."""

    model_config = SettingsConfigDict(
        env_prefix=JOB_VARIABLES, env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )


def load_settings() -> Settings:
    """Read settings, the jobs' too, from the environment (and .env); every bad value is
    named by its variable."""
    problems: list[str] = []
    try:
        settings = Settings()
    except ValidationError as exc:
        problems += _named(exc, prefix="")
    try:
        jobs = JobSettings.model_validate(_JobVariables().model_dump())
    except ValidationError as exc:
        problems += _named(exc, prefix=JOB_VARIABLES)
    if problems:
        raise SettingsError("Invalid settings: " + "; ".join(problems))
    return settings.model_copy(update={"jobs": jobs})


def _named(error: ValidationError, *, prefix: str) -> list[str]:
    problems = []
    for problem in error.errors():
        field = str(problem["loc"][0]) if problem["loc"] else "settings"
        name = f"{prefix}{field.upper()}" if prefix else field
        problems.append(f"{name}: {problem['msg']}")
    return problems
