"""Settings from the environment, validated at start-up with errors that name the setting."""

from __future__ import annotations

import errno
import ipaddress
import os
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from jobs import JobSettings

ChannelPolicy = Literal["mention", "listen", "open"]


_MONGODB_SCHEMES = ("mongodb://", "mongodb+srv://")
_HOST_NAME = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*")
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
#: Of the stop deadline, the seconds kept for closing connections and the store after running
#: turns had theirs (half the deadline when it is shorter than twice this).
CLOSING_RESERVE_S = 2.0


class SettingsError(Exception):
    """A setting is missing or wrong; the message says which and how to fix it."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
        # MNEMO_JOBS_TOKEN_BUDGET is jobs.token_budget: after a nested setting's name and one
        # "_", the rest of the variable's name is its field's name, whole.
        env_nested_delimiter="_",
        env_nested_max_split=1,
    )

    #: The background jobs' settings, one ``MNEMO_JOBS_<FIELD>`` variable each (``NoDecode``:
    #: never one JSON value).
    jobs: Annotated[JobSettings, NoDecode] = Field(default_factory=JobSettings, alias="MNEMO_JOBS")

    # Model endpoint
    openai_api_key: SecretStr | None = Field(default=None, alias="OPENAI_API_KEY")
    openai_base_url: str | None = Field(default=None, alias="OPENAI_BASE_URL")
    model: str = Field(default="gpt-4o-mini", alias="MNEMO_MODEL")
    #: "local" (the embedded model) or an embeddings model name served by the endpoint.
    embedding_model: str = Field(default="local", min_length=1, alias="MNEMO_EMBEDDING_MODEL")
    #: The endpoint model's vector size; unset, it is known (OpenAI's) or asked of the server.
    embedding_dimensions: int | None = Field(default=None, gt=0, alias="MNEMO_EMBEDDING_DIMENSIONS")
    #: Seconds one model step may take, retries and waits included.
    llm_timeout: float = Field(default=60.0, gt=0, alias="MNEMO_LLM_TIMEOUT")
    #: Seconds one HTTP request to the model may take (raise it for a local model on a CPU).
    llm_request_timeout: float = Field(default=30.0, gt=0, alias="MNEMO_LLM_REQUEST_TIMEOUT")
    #: Whether replies are streamed from the model (``stream=True``) into platforms that show
    #: them as they are written (Slack threads, Discord); off, each reply is posted whole.
    stream_replies: bool = Field(default=True, alias="MNEMO_STREAM_REPLIES")

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
    #: Seconds from SIGTERM (or SIGINT) to exit, in every state: running turns get all of it
    #: but ``CLOSING_RESERVE_S``, in which connections and the store close.
    stop_deadline: float = Field(default=12.0, ge=1.0, alias="MNEMO_STOP_DEADLINE")

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

    # Channel history: what a bot learns of a channel's past when it joins or an admin asks
    #: Days of history read (0: no day limit).
    history_days: int = Field(default=90, ge=0, alias="MNEMO_HISTORY_DAYS")
    #: Messages read per channel at most, the newest first.
    history_messages: int = Field(default=2_000, ge=1, alias="MNEMO_HISTORY_MESSAGES")
    #: Whether the bot joining a channel (or a Discord server) reads its history.
    history_on_join: bool = Field(default=True, alias="MNEMO_HISTORY_ON_JOIN")
    #: Files shared in chat larger than this (MiB) are not learned (see ``learn_files``).
    shared_file_max_mb: float = Field(default=10.0, gt=0, alias="MNEMO_SHARED_FILE_MAX_MB")

    log_format: Literal["json", "text"] = Field(default="text", alias="MNEMO_LOG_FORMAT")
    log_level: str = Field(default="INFO", alias="MNEMO_LOG_LEVEL")

    @field_validator("jobs", mode="before")
    @classmethod
    def _one_variable_per_job_setting(cls, value: object) -> object:
        if isinstance(value, str):
            raise ValueError(
                "set each job setting as its own variable, e.g. MNEMO_JOBS_TOKEN_BUDGET=5000"
            )
        return value

    @field_validator("openai_base_url", "mongodb_uri", "embedding_dimensions", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("openai_base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"https?://[^\s/]+(/\S*)?", value):
            raise ValueError(
                f"{value!r} is not an http(s) URL: set it like http://localhost:11434/v1"
            )
        return value

    @field_validator("mongodb_uri")
    @classmethod
    def _mongodb_uri(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith(_MONGODB_SCHEMES):
            raise ValueError(
                "not a MongoDB URI (it starts with mongodb:// or mongodb+srv://): set it like "
                "mongodb://localhost:27017, or unset it to use the embedded store"
            )
        return value

    @field_validator("data_dir")
    @classmethod
    def _usable_data_dir(cls, value: Path, info: ValidationInfo) -> Path:
        if info.data.get("mongodb_uri") is None:  # the embedded store lives there
            try:
                value.mkdir(parents=True, exist_ok=True)
                if not os.access(value, os.W_OK | os.X_OK):
                    raise PermissionError(errno.EACCES, "not writable")
            except OSError as exc:
                raise ValueError(
                    f"{str(value)!r} cannot be used as a directory ({exc.strerror}): "
                    "set it to a writable directory"
                ) from None
        return value

    @field_validator("agent_name", "model", "mongodb_database")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("is empty: set a name, or unset it for the default")
        return value.strip()

    @field_validator("http_host")
    @classmethod
    def _host(cls, value: str) -> str:
        try:
            ipaddress.ip_address(value)
        except ValueError:
            if re.fullmatch(r"[\d.]+|.*:.*", value) or not _HOST_NAME.fullmatch(value):
                raise ValueError(
                    f"{value!r} is not an IP address or host name: set it to 127.0.0.1 "
                    "(this machine only) or 0.0.0.0 (every interface)"
                ) from None
        return value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        if value.upper() not in _LOG_LEVELS:
            raise ValueError(f"{value!r} is not a log level: set one of {', '.join(_LOG_LEVELS)}")
        return value.upper()

    @field_validator("slack_channel_policies", "discord_channel_policies")
    @classmethod
    def _policy_overrides(cls, value: str) -> str:
        parse_policies(value)
        return value

    @property
    def turn_stop_deadline(self) -> float:
        """The part of the stop deadline that running turns get to finish."""
        return self.stop_deadline - min(CLOSING_RESERVE_S, self.stop_deadline / 2)

    @property
    def shared_file_max_bytes(self) -> int:
        return int(self.shared_file_max_mb * 2**20)

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


def load_settings() -> Settings:
    """Read settings, the jobs' too, from the environment (and .env); every bad value is
    named by its variable."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = [
            f"{_variable(p['loc'])}: {p['msg'].removeprefix('Value error, ')}" for p in exc.errors()
        ]
        raise SettingsError("Invalid settings: " + "; ".join(problems)) from None


def _variable(loc: tuple[int | str, ...]) -> str:
    """The variable a validation error is about: ("jobs", "lease_s") is MNEMO_JOBS_LEASE_S."""
    if not loc:
        return "settings"
    field = Settings.model_fields.get(str(loc[0]))
    head = field.alias if field is not None and field.alias else str(loc[0])
    return "_".join([head, *map(str, loc[1:])]).upper()
