"""The agents file: several agents of one deployment declared in YAML, validated with errors
that name the file, the line and the field.

```yaml
shared_blocks:
  team: {value: "We ship on Fridays.", limit: 2000}
traffic: {max_hops: 6, pair_rate: 20, rate_window: 60}
mcp_servers:
  - {name: github, command: github-mcp-server, args: [stdio],
     env: {GITHUB_PERSONAL_ACCESS_TOKEN: GITHUB_TOKEN}, audiences: [public, private]}
agents:
  - name: planner
    persona: I split work and combine the results.
    tags: [supervisor]
    tools: [send_message, send_message_to_agents_matching_tags, github__*]
    shared_blocks: [team]
    platforms:
      slack: {bot_user: U0PLANNER, channels: [C0GENERAL], policy: mention,
              bot_token_env: PLANNER_SLACK_BOT_TOKEN, app_token_env: PLANNER_SLACK_APP_TOKEN}
      discord: {bot_user: "1234", token_env: PLANNER_DISCORD_TOKEN}
```
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from engine.config._yaml_lines import YamlError, line_of, load_with_lines
from engine.messaging.guard import TrafficLimits
from engine.records import DEFAULT_MAX_TOKENS, ToolRule
from engine.tools.builtin import BUILTIN_TOOLS, DEFAULT_TOOLS, TERMINAL_TOOLS
from engine.tools.custom import CustomTool, ToolDefinitionError, load_tool
from engine.tools.mcp import SERVER_NAME, McpServerSpec
from engine.tools.messaging import MESSAGING_TOOLS
from engine.tools.rules import ToolRuleError, parse_tool_rules

PLATFORMS = ("slack", "discord")
_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
_ENV_NAME = r"([A-Za-z_][A-Za-z0-9_]*)?"
#: An MCP server's tool (``server__tool``) or all of its tools (``server__*``).
_MCP_TOOL = rf"{SERVER_NAME.removesuffix('$')}__(\*|[A-Za-z0-9_-]+)$"
#: The credential fields each platform's bot needs, all or none.
_CREDENTIALS = {"slack": ("bot_token_env", "app_token_env"), "discord": ("token_env",)}

Policy = Literal["mention", "listen", "open"]


class AgentsFileError(ValueError):
    """An agents file that cannot be used; every problem is listed with its line and field."""

    def __init__(self, origin: str, problems: Sequence[str]) -> None:
        super().__init__(f"{origin} has {len(problems)} problem(s):\n" + "\n".join(problems))
        self.problems = tuple(problems)


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ToolSpec(_Spec):
    name: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    #: A Python file, relative to the agents file.
    file: str
    function: str | None = None


class PlatformSpec(_Spec):
    #: The agent's own bot user on the platform, so other agents' mentions of it reach it.
    bot_user: str = ""
    #: Channels the agent serves; empty serves every channel it is invited to.
    channels: tuple[str, ...] = ()
    policy: Policy = "mention"
    channel_policies: dict[str, Policy] = Field(default_factory=dict)
    #: Where files shared with the bot are learned as knowledge sources: channel ids, and
    #: ``dm`` for its DMs; empty (the default) learns none.
    learn_files: tuple[str, ...] = ()
    #: Names of environment variables holding the agent's own bot credentials (never the
    #: secrets themselves): Slack's bot token (xoxb-) and app-level token (xapp-, Socket
    #: Mode), or the Discord bot token. An agent with them runs its own bot in the process.
    bot_token_env: str = ""
    app_token_env: str = ""
    token_env: str = ""

    @field_validator("bot_token_env", "app_token_env", "token_env")
    @classmethod
    def _environment_name(cls, name: str) -> str:
        if not re.fullmatch(_ENV_NAME, name):
            raise ValueError(
                "must be the name of an environment variable holding the token "
                "(letters, digits and _), never the token itself"
            )
        return name

    @property
    def has_credentials(self) -> bool:
        return bool(self.bot_token_env or self.app_token_env or self.token_env)


class SharedBlockSpec(_Spec):
    value: str = ""
    limit: int = Field(default=3000, ge=100, le=20_000)


class AgentSpec(_Spec):
    name: str = Field(pattern=_NAME)
    model: str | None = None
    persona: str | None = None
    system_prompt: str = ""
    tools: tuple[str | ToolSpec, ...] = DEFAULT_TOOLS
    tool_rules: tuple[dict[str, Any], ...] = ()
    tags: tuple[str, ...] = ()
    shared_blocks: tuple[str, ...] = ()
    max_steps: int = Field(default=8, ge=1, le=50)
    context_budget: int | None = Field(default=None, ge=1000)
    #: The most tokens one answer may take.
    max_tokens: int = Field(default=DEFAULT_MAX_TOKENS, ge=16)
    #: The model's context window, for servers that do not state it.
    context_window: int | None = Field(default=None, ge=1000)
    platforms: dict[Literal["slack", "discord"], PlatformSpec] = Field(default_factory=dict)

    @field_validator("tags")
    @classmethod
    def _lower_tags(cls, tags: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t.strip().lower() for t in tags if t.strip()))


_LIMITS = TrafficLimits()


class TrafficSpec(_Spec):
    """Limits on agents talking to each other (see ``engine.messaging.TrafficLimits``)."""

    max_hops: int = Field(default=_LIMITS.max_hops, ge=1, le=100)
    pair_rate: int = Field(default=_LIMITS.pair_rate, ge=1)
    rate_window: float = Field(default=_LIMITS.rate_window, gt=0)


class AgentsFileSpec(_Spec):
    shared_blocks: dict[str, SharedBlockSpec] = Field(default_factory=dict)
    traffic: TrafficSpec = Field(default_factory=TrafficSpec)
    mcp_servers: tuple[McpServerSpec, ...] = ()
    agents: tuple[AgentSpec, ...]


@dataclass(frozen=True, slots=True)
class AgentDefinition:
    """One agent as the file declares it, with its custom tools read and its rules parsed."""

    name: str
    model: str | None
    persona: str | None
    system_prompt: str
    tools: tuple[str, ...]
    custom_tools: tuple[CustomTool, ...]
    tool_rules: tuple[ToolRule, ...]
    tags: tuple[str, ...]
    shared_blocks: tuple[str, ...]
    max_steps: int
    context_budget: int | None
    max_tokens: int
    context_window: int | None
    platforms: Mapping[str, PlatformSpec]


@dataclass(frozen=True, slots=True)
class AgentsFile:
    origin: str
    agents: tuple[AgentDefinition, ...]
    shared_blocks: Mapping[str, SharedBlockSpec]
    traffic: TrafficLimits
    #: MCP servers whose tools agents attach as ``server__tool`` or ``server__*``.
    mcp_servers: tuple[McpServerSpec, ...] = ()

    def agent(self, name: str) -> AgentDefinition | None:
        return next((a for a in self.agents if a.name == name), None)


def read_agents_file(path: Path) -> AgentsFile:
    """Read and validate ``path``; raises ``AgentsFileError`` listing every problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise AgentsFileError(str(path), [f"{path}: cannot read it ({exc.strerror})"]) from None
    return parse_agents_file(text, origin=str(path), base_dir=path.parent)


def parse_agents_file(text: str, *, origin: str, base_dir: Path) -> AgentsFile:
    try:
        raw, lines = load_with_lines(text, origin)
    except YamlError as exc:
        raise AgentsFileError(origin, [str(exc)]) from None

    def at(path: tuple[str | int, ...]) -> str:
        line = line_of(lines, path)
        field = ".".join(str(p) for p in path) or "the file"
        return f"{origin}:{line} {field}" if line else f"{origin} {field}"

    if not isinstance(raw, dict):
        raise AgentsFileError(origin, [f"{at(())}: must be a mapping with an 'agents' list"])
    try:
        spec = AgentsFileSpec.model_validate(raw)
    except ValidationError as exc:
        errors = [f"{at(tuple(e['loc']))}: {e['msg']}" for e in exc.errors()]
        raise AgentsFileError(origin, errors) from None
    problems: list[str] = []
    if not spec.agents:
        problems.append(f"{at(('agents',))}: declare at least one agent")
    servers = [server.name for server in spec.mcp_servers]
    for position, name in enumerate(servers):
        if name in servers[:position]:
            problems.append(f"{at(('mcp_servers', position, 'name'))}: another server is {name!r}")
    definitions = []
    seen: set[str] = set()
    for index, agent in enumerate(spec.agents):
        where: tuple[str | int, ...] = ("agents", index)
        if agent.name in seen:
            problems.append(f"{at((*where, 'name'))}: another agent is called {agent.name!r}")
        seen.add(agent.name)
        for position, block in enumerate(agent.shared_blocks):
            if block not in spec.shared_blocks:
                problems.append(
                    f"{at((*where, 'shared_blocks', position))}: no shared block {block!r} is "
                    "declared under the top-level shared_blocks"
                )
        _check_credentials(agent, where, at, problems)
        definition = _definition(agent, where, at, base_dir, problems)
        if definition is not None:
            definitions.append(definition)
    if problems:
        raise AgentsFileError(origin, problems)
    limits = TrafficLimits(**spec.traffic.model_dump())
    return AgentsFile(origin, tuple(definitions), spec.shared_blocks, limits, spec.mcp_servers)


def _check_credentials(
    agent: AgentSpec, where: tuple[str | int, ...], at: Any, problems: list[str]
) -> None:
    for platform, spec in agent.platforms.items():
        needed = _CREDENTIALS[platform]
        path = (*where, "platforms", platform)
        for name in ("bot_token_env", "app_token_env", "token_env"):
            if getattr(spec, name) and name not in needed:
                problems.append(
                    f"{at((*path, name))}: {platform} takes {' and '.join(needed)}, not {name}"
                )
        if spec.has_credentials and not spec.bot_user:
            problems.append(
                f"{at(path)}: an agent with its own {platform} bot needs its bot_user, so the "
                "other agents know its messages"
            )
        missing = [name for name in needed if not getattr(spec, name)]
        if spec.has_credentials and missing:
            problems.append(
                f"{at(path)}: an agent's own {platform} bot needs {' and '.join(needed)}; "
                f"add {', '.join(missing)}"
            )


def _definition(
    agent: AgentSpec,
    where: tuple[str | int, ...],
    at: Any,
    base_dir: Path,
    problems: list[str],
) -> AgentDefinition | None:
    known = set(BUILTIN_TOOLS) | set(MESSAGING_TOOLS)
    names: list[str] = []
    custom: list[CustomTool] = []
    for position, tool in enumerate(agent.tools):
        path = (*where, "tools", position)
        if isinstance(tool, str):
            if tool not in known and not re.fullmatch(_MCP_TOOL, tool):
                problems.append(
                    f"{at(path)}: unknown tool {tool!r}; built-in and messaging tools are "
                    f"{', '.join(sorted(known))}, custom tools are declared as "
                    "{name, file, function}, MCP tools are SERVER__TOOL or SERVER__*"
                )
            names.append(tool)
            continue
        try:
            loaded = load_tool(base_dir / tool.file, tool.function or tool.name)
        except ToolDefinitionError as exc:
            problems.append(f"{at((*path, 'file'))}: {exc}")
            continue
        custom.append(loaded)
        names.append(loaded.name)
    try:
        rules = parse_tool_rules(agent.tool_rules)
    except ToolRuleError as exc:
        problems.append(f"{at((*where, 'tool_rules'))}: {exc}")
        return None
    for position, rule in enumerate(rules):
        missing = [t for t in (rule.tool, *rule.children) if t not in {*names, *TERMINAL_TOOLS}]
        if missing:
            problems.append(
                f"{at((*where, 'tool_rules', position))}: names tools the agent does not have: "
                f"{', '.join(missing)}"
            )
    return AgentDefinition(
        name=agent.name,
        model=agent.model,
        persona=agent.persona,
        system_prompt=agent.system_prompt,
        tools=tuple(dict.fromkeys(names)),
        custom_tools=tuple(custom),
        tool_rules=rules,
        tags=agent.tags,
        shared_blocks=agent.shared_blocks,
        max_steps=agent.max_steps,
        context_budget=agent.context_budget,
        max_tokens=agent.max_tokens,
        context_window=agent.context_window,
        platforms={str(name): spec for name, spec in agent.platforms.items()},
    )
