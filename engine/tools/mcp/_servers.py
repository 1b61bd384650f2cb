"""An MCP server as an operator declares it: how to reach it, where its secrets come from, and
which audiences may use it.

Secrets never appear in a declaration: environment variables and HTTP headers name variables
of the bot's own environment, read when the server is started.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from engine.audience import Audience
from engine.tools.approval import DEFAULT_TTL_S, ApprovalPolicy
from engine.tools.base import MAX_TOOL_OUTPUT

#: Server names never contain ``_``, so ``server__tool`` always splits back unambiguously.
SERVER_NAME = r"^[A-Za-z0-9][A-Za-z0-9-]{0,23}$"
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_HEADER_NAME = re.compile(r"^[A-Za-z0-9-]+$")
AudienceName = Literal["dm", "private", "public"]
ALL_AUDIENCES: tuple[AudienceName, ...] = ("dm", "private", "public")


class McpServerError(ValueError):
    """A server that cannot be started as declared; the message says what to change."""


class McpServerSpec(BaseModel):
    """One MCP server: a command run over stdio, or a Streamable HTTP URL."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=SERVER_NAME)
    #: stdio: the program to start, and its arguments.
    command: str = ""
    args: tuple[str, ...] = ()
    #: stdio: variables the server sees -> names of the bot's environment variables holding them.
    env: dict[str, str] = Field(default_factory=dict)
    #: Streamable HTTP: the endpoint.
    url: str = ""
    #: Streamable HTTP: header -> name of the bot's environment variable holding its value.
    headers: dict[str, str] = Field(default_factory=dict)
    #: Where the server's tools are offered; a DM turn never sees a server without ``dm``.
    audiences: tuple[AudienceName, ...] = ALL_AUDIENCES
    #: Seconds one call may take before the agent is told it timed out.
    timeout: float = Field(default=30.0, gt=0, le=600)
    #: Characters of one result the agent reads; the rest is cut with a note.
    max_output: int = Field(default=MAX_TOOL_OUTPUT, ge=200, le=100_000)
    #: Calls that wait for a person's approval: ``"all"``, or the server's own tool names.
    approval: Literal["all"] | tuple[str, ...] = ()
    #: Who may approve (user ids); none: the person whose message the turn answered.
    approvers: tuple[str, ...] = ()
    #: Seconds an approval request waits before it expires.
    approval_ttl_s: float = Field(default=DEFAULT_TTL_S, gt=0, le=7 * 86_400)

    @field_validator("env", "headers")
    @classmethod
    def _variable_names(cls, value: dict[str, str]) -> dict[str, str]:
        for key, variable in value.items():
            if not _ENV_NAME.fullmatch(variable):
                raise ValueError(
                    f"{key}: must name an environment variable holding the value "
                    "(letters, digits and _), never the value itself"
                )
        return value

    @field_validator("audiences")
    @classmethod
    def _some_audience(cls, value: tuple[AudienceName, ...]) -> tuple[AudienceName, ...]:
        if not value:
            raise ValueError("name at least one of dm, private, public")
        return tuple(dict.fromkeys(value))

    @model_validator(mode="after")
    def _one_transport(self) -> Self:
        if bool(self.command) == bool(self.url):
            raise ValueError("give either command (a stdio server) or url (Streamable HTTP)")
        if self.url and not self.url.startswith(("http://", "https://")):
            raise ValueError("url must start with http:// or https://")
        if self.command and self.headers:
            raise ValueError("headers are for url servers; a command server takes env")
        if self.url and (self.env or self.args):
            raise ValueError("env and args are for command servers; a url server takes headers")
        bad = [h for h in self.headers if not _HEADER_NAME.fullmatch(h)]
        if bad:
            raise ValueError(f"not valid header names: {', '.join(bad)}")
        return self

    @property
    def transport(self) -> str:
        return "stdio" if self.command else "http"

    def serves(self, audience: Audience) -> bool:
        return audience.kind.value in self.audiences

    def approval_policy(self, tool: str) -> ApprovalPolicy | None:
        """How calls of the server's ``tool`` are approved; None when they are not."""
        if self.approval != "all" and tool not in self.approval:
            return None
        return ApprovalPolicy(self.approvers, self.approval_ttl_s)

    def resolved_env(self, environ: Mapping[str, str]) -> dict[str, str]:
        """The server's environment variables, read from ``environ``."""
        return _resolve(self.name, "env", self.env, environ)

    def resolved_headers(self, environ: Mapping[str, str]) -> dict[str, str]:
        """The HTTP headers, read from ``environ``."""
        return _resolve(self.name, "headers", self.headers, environ)


def _resolve(
    server: str, field: str, names: Mapping[str, str], environ: Mapping[str, str]
) -> dict[str, str]:
    missing = [f"{key} ({variable})" for key, variable in names.items() if variable not in environ]
    if missing:
        raise McpServerError(
            f"MCP server {server!r}: {field} {', '.join(missing)}: the environment variable is "
            "not set; set it in the bot's environment"
        )
    return {key: environ[variable] for key, variable in names.items()}
