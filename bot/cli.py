"""The ``mnemo`` command: run the bot, chat in a terminal, manage agents and user memory."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import sys
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from adapters.console import CONSOLE_WORKSPACE, stdin_lines
from bot.history_cli import add_history_arguments, run_history
from bot.logging import configure_logging
from bot.mcp_cli import add_mcp_arguments, run_mcp
from bot.memory_cli import add_memory_arguments, run_memory
from bot.settings import Settings, SettingsError, load_settings
from bot.sources_cli import add_sources_arguments, run_sources
from bot.terminal_text import agents_table, nothing_due
from bot.wiring import build_embedder, build_runtime, build_sandbox, running, user_memory
from engine import (
    Agent,
    AgentChangeError,
    AgentExists,
    AgentsFileError,
    BackfillLedger,
    HybridSearch,
    MongoUnreachableError,
    SandboxLimits,
    Store,
    ToolDefinitionError,
    ToolRegistry,
    apply_agents_file,
    attach_tool,
    create_agent,
    detach_tool,
    ensure_agent,
    open_store,
    read_agents_file,
    register_tool,
    utcnow,
)
from jobs import JobHistory, RetentionPolicies, format_runs


@contextlib.asynccontextmanager
async def _store(settings: Settings) -> AsyncIterator[Store]:
    store = await open_store(
        mongodb_uri=settings.mongodb_uri_value,
        data_dir=settings.data_dir,
        database=settings.mongodb_database,
    )
    try:
        yield store
    finally:
        await store.close()


#: Who the person at the terminal is (``mnemo run`` calls them the same).
TERMINAL_USER = "you"
_DESCRIPTION = (
    "Mnemo: stateful LLM agents for Slack and Discord. Run the bot, chat with an agent in "
    "this terminal, manage agents, tools and background jobs, and see or delete what is kept "
    "about a user. Settings come from environment variables (or .env)."
)
_RUN = (
    "Run the bot: every platform whose token is set (SLACK_*, DISCORD_TOKEN), the HTTP server "
    "(health, readiness, metrics, the inspector) and the background jobs, until SIGTERM or "
    "Ctrl-C. With no platform token set, talk to the default agent in this terminal."
)


class _CommandParser(argparse.ArgumentParser):
    """A command's parser that takes its options anywhere among its arguments (``mnemo
    sources add --agent ada FILE``): argparse alone reads an action and its arguments as one
    run, so any option between them left the arguments unrecognized."""

    _intermixing = False

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        nested = any(a.nargs == argparse.PARSER for a in self._get_positional_actions())
        if self._intermixing or nested:  # argparse cannot intermix around subcommands
            return super().parse_known_args(args, namespace)
        self._intermixing = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._intermixing = False


def _command[P: argparse.ArgumentParser](
    commands: argparse._SubParsersAction[P], name: str, summary: str, description: str = ""
) -> P:
    """A command whose ``--help`` opens with what it does: ``description``, or the summary
    that ``mnemo --help`` lists."""
    return commands.add_parser(
        name, help=summary, description=description or f"{summary[0].upper()}{summary[1:]}."
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mnemo", description=_DESCRIPTION)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_CommandParser)

    _command(commands, "run", "run the bot with every configured platform", _RUN)

    chat = _command(commands, "chat", "talk to an agent in this terminal")
    chat.add_argument(
        "--user", default=TERMINAL_USER, help=f"who you are (default: {TERMINAL_USER})"
    )
    where = chat.add_mutually_exclusive_group()
    where.add_argument("--channel", help="talk in this public channel")
    where.add_argument("--dm", action="store_true", help="talk in a direct message (default)")
    chat.add_argument("--agent", help="agent name (default: MNEMO_AGENT)")

    agents = _command(commands, "agents", "create and list agents")
    agent_commands = agents.add_subparsers(dest="agents_command", required=True)
    create = _command(agent_commands, "create", "create an agent")
    create.add_argument("name")
    create.add_argument("--persona", help="who the agent is, in its own words")
    create.add_argument("--model", help="model name (default: MNEMO_MODEL)")
    _command(agent_commands, "list", "list agents: name, version (for --if-version), model")
    validate = _command(agent_commands, "validate", "check an agents file")
    validate.add_argument("file", type=Path)
    apply = _command(agent_commands, "apply", "create or update the agents of a file")
    apply.add_argument("file", type=Path)
    agent_tools = _command(agent_commands, "tools", "attach or detach one agent's tool")
    agent_tools.add_argument("action", choices=["attach", "detach"])
    agent_tools.add_argument("agent")
    agent_tools.add_argument("tool")
    agent_tools.add_argument(
        "--if-version", type=int, help="refuse unless the agent is still at this version"
    )

    tools = _command(commands, "tools", "custom tools run in the sandbox")
    tool_commands = tools.add_subparsers(dest="tools_command", required=True)
    add = _command(tool_commands, "add", "register a tool from FILE[:FUNCTION]")
    add.add_argument("spec", metavar="FILE[:FUNCTION]")
    _command(tool_commands, "list", "list registered tools")
    run = _command(tool_commands, "run", "run a tool in the sandbox, as an agent would")
    run.add_argument("name")
    run.add_argument("--args", default="{}", help="arguments as a JSON object")

    mcp = _command(commands, "mcp", "MCP servers whose tools agents may attach")
    add_mcp_arguments(mcp)

    memory = _command(commands, "memory", "what Mnemo keeps about a user, and why")
    add_memory_arguments(memory, TERMINAL_USER, CONSOLE_WORKSPACE)

    history = _command(commands, "history", "channel histories read into recall: how far each got")
    add_history_arguments(history)

    sources = _command(commands, "sources", "teach an agent from files (Markdown, text, PDF, HTML)")
    add_sources_arguments(sources, CONSOLE_WORKSPACE)

    jobs = _command(commands, "jobs", "background memory jobs and their recorded runs")
    job_commands = jobs.add_subparsers(dest="jobs_command", required=True)
    listing = _command(job_commands, "list", "recorded runs, newest first")
    listing.add_argument("--job", help="only this job's runs")
    listing.add_argument("--limit", type=int, default=30)
    run_job = _command(job_commands, "run", "run a job now, even if it ran this slot")
    run_job.add_argument("name", choices=["consolidate", "hygiene", "digest", "retention"])
    retention = _command(job_commands, "retention", "days of recall a workspace keeps")
    retention.add_argument("workspace")
    retention.add_argument("days", type=int, help="0 keeps everything")
    return parser


async def _chat(settings: Settings, args: argparse.Namespace) -> int:
    # Warnings and errors only, so the conversation stays readable; redacted like `mnemo run`.
    configure_logging(settings)
    root = logging.getLogger()
    root.setLevel(max(root.level, logging.WARNING))
    async with running(settings) as runtime:
        console = runtime.console_services()
        agent = await console.agent(args.agent)
        chat = console.chat(agent, user=args.user, channel=args.channel)
        print(f"Talking to {agent.name} as {args.user} in {chat.where}. /quit to leave.")
        await chat.run(lambda: stdin_lines(f"{args.user}> "), sys.stdout)
    return 0


async def _agents(settings: Settings, args: argparse.Namespace) -> int:
    try:
        agents_file = (
            read_agents_file(args.file) if args.agents_command in ("validate", "apply") else None
        )
    except AgentsFileError as exc:
        print(f"mnemo: {exc}", file=sys.stderr)
        return 1
    if args.agents_command == "validate":
        print(f"{args.file}: {len(agents_file.agents) if agents_file else 0} agents, valid")
        return 0
    async with _store(settings) as store:
        if args.agents_command == "list":
            print(agents_table(await store.agents.list()))
            return 0
        if agents_file is not None:
            report = await apply_agents_file(
                store,
                agents_file,
                default_model=settings.model,
                default_budget=settings.context_budget,
            )
            for outcome in ("created", "updated", "unchanged"):
                print(f"{outcome}: {', '.join(getattr(report, outcome)) or '-'}")
            return 0
        if args.agents_command == "tools":
            change = attach_tool if args.action == "attach" else detach_tool
            try:
                agent = await change(store, args.agent, args.tool, expected_version=args.if_version)
            except AgentChangeError as exc:
                print(f"mnemo: {exc}", file=sys.stderr)
                return 1
            print(f"{agent.name} (version {agent.version}) tools: {', '.join(agent.tools)}")
            return 0
        try:
            agent = await create_agent(
                store,
                args.name,
                model=args.model or settings.model,
                persona=args.persona,
                context_budget=settings.context_budget,
            )
        except AgentExists as exc:
            print(f"mnemo: {exc}", file=sys.stderr)
            return 1
        print(f"created agent {agent.name} ({agent.id}, model {agent.model})")
        return 0


async def _memory(settings: Settings, args: argparse.Namespace) -> int:
    # Forgetting embeds again what followed a forgotten message (its vector held the forgotten
    # words), so only `forget` loads the embedding model.
    embedder = await build_embedder(settings) if args.action == "forget" else None
    async with _store(settings) as store:
        search = None if embedder is None else HybridSearch(store, embedder, clock=utcnow)
        return await run_memory(user_memory(store, search), args)


async def _sources(settings: Settings, args: argparse.Namespace) -> int:
    embedder = await build_embedder(settings)
    async with _store(settings) as store:
        if args.agent is None:  # the default agent, created as `mnemo run` creates it
            agent: Agent | None = await ensure_agent(
                store,
                settings.agent_name,
                model=settings.model,
                context_budget=settings.context_budget,
            )
        else:
            agent = await store.agents.by_name(args.agent)
        if agent is None:
            print(
                f"mnemo: no agent called {args.agent!r} (see `mnemo agents list`)",
                file=sys.stderr,
            )
            return 1
        return await run_sources(store, embedder, agent, args)


async def _mcp(settings: Settings, args: argparse.Namespace) -> int:
    async with _store(settings) as store:
        return await run_mcp(store, args)


async def _tools(settings: Settings, args: argparse.Namespace) -> int:
    async with _store(settings) as store:
        registry = ToolRegistry(store.tools)
        if args.tools_command == "add":
            try:
                tool = await register_tool(store.tools, args.spec)
            except ToolDefinitionError as exc:
                print(f"mnemo: {exc}", file=sys.stderr)
                return 1
            print(f"registered {tool.name}: {tool.description}")
            return 0
        if args.tools_command == "list":
            for tool in await registry.all():
                print(f"{tool.name}\t{tool.description}")
            return 0
        found = await registry.get(args.name)
        if found is None:
            print(f"mnemo: no tool called {args.name!r} (see `mnemo tools list`)", file=sys.stderr)
            return 1
        try:
            arguments = json.loads(args.args)
        except json.JSONDecodeError as exc:
            print(f"mnemo: --args is not valid JSON: {exc}", file=sys.stderr)
            return 2
        if not isinstance(arguments, dict):
            print("mnemo: --args must be a JSON object", file=sys.stderr)
            return 2
        outcome = await build_sandbox(settings).run(
            found, arguments, memory=None, limits=SandboxLimits()
        )
        print(outcome.output)
        if outcome.logs:
            print(f"--- logs ---\n{outcome.logs}", file=sys.stderr)
        if outcome.isolation:  # empty when the call was refused before the sandbox started
            print(f"--- isolation: {outcome.isolation} ---", file=sys.stderr)
        return 0 if outcome.ok else 1


async def _history(settings: Settings, args: argparse.Namespace) -> int:
    async with _store(settings) as store:
        return await run_history(BackfillLedger(store.kv), args)


async def _jobs(settings: Settings, args: argparse.Namespace) -> int:
    if args.jobs_command == "run":
        runtime = await build_runtime(settings)
        try:
            runs = await runtime.jobs.run_now(args.name)
            print(format_runs(runs) if runs else nothing_due(args.name, settings.jobs))
        finally:
            await runtime.aclose()
        return 0
    async with _store(settings) as store:
        if args.jobs_command == "list":
            print(format_runs(await JobHistory(store.jobs).runs(args.job, args.limit)))
        elif args.days < 0:
            print("mnemo: days must be 0 (keep everything) or more", file=sys.stderr)
            return 2
        else:
            await RetentionPolicies(store.kv, 0).set(args.workspace, args.days)
            print(f"{args.workspace} keeps {args.days or 'all'} days of recall")
    return 0


async def _run(settings: Settings, _args: argparse.Namespace) -> int:
    from bot.process import serve

    return await serve(settings)


#: What each command runs, by its name on the command line.
_COMMANDS: dict[str, Callable[[Settings, argparse.Namespace], Coroutine[Any, Any, int]]] = {
    "run": _run,
    "chat": _chat,
    "agents": _agents,
    "memory": _memory,
    "mcp": _mcp,
    "tools": _tools,
    "sources": _sources,
    "jobs": _jobs,
    "history": _history,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        return asyncio.run(_COMMANDS[args.command](settings, args))
    except SettingsError as exc:
        print(f"mnemo: {exc}", file=sys.stderr)
        return 2
    except MongoUnreachableError as exc:
        print(f"mnemo: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
