"""The ``mnemo`` command: run the bot, chat in a terminal, manage agents and user memory."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from adapters.console import CONSOLE_WORKSPACE, stdin_lines
from bot.logging import configure_logging
from bot.settings import Settings, SettingsError, load_settings
from bot.wiring import build_runtime, build_sandbox, running
from engine import (
    AgentChangeError,
    AgentExists,
    AgentsFileError,
    MongoUnreachableError,
    SandboxLimits,
    Store,
    ToolDefinitionError,
    ToolRegistry,
    apply_agents_file,
    attach_tool,
    create_agent,
    detach_tool,
    open_store,
    read_agents_file,
    register_tool,
    render_report,
)
from jobs import JobHistory, RetentionPolicies, UserDataWithJobRecords, format_runs


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mnemo", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser("run", help="run the bot with every configured platform")

    chat = commands.add_parser("chat", help="talk to an agent in this terminal")
    chat.add_argument("--user", default="you", help="who you are (default: you)")
    where = chat.add_mutually_exclusive_group()
    where.add_argument("--channel", help="talk in this public channel")
    where.add_argument("--dm", action="store_true", help="talk in a direct message (default)")
    chat.add_argument("--agent", help="agent name (default: MNEMO_AGENT)")

    agents = commands.add_parser("agents", help="create and list agents")
    agent_commands = agents.add_subparsers(dest="agents_command", required=True)
    create = agent_commands.add_parser("create", help="create an agent")
    create.add_argument("name")
    create.add_argument("--persona", help="who the agent is, in its own words")
    create.add_argument("--model", help="model name (default: MNEMO_MODEL)")
    agent_commands.add_parser("list", help="list agents")
    validate = agent_commands.add_parser("validate", help="check an agents file")
    validate.add_argument("file", type=Path)
    apply = agent_commands.add_parser("apply", help="create or update the agents of a file")
    apply.add_argument("file", type=Path)
    agent_tools = agent_commands.add_parser("tools", help="attach or detach one agent's tool")
    agent_tools.add_argument("action", choices=["attach", "detach"])
    agent_tools.add_argument("agent")
    agent_tools.add_argument("tool")
    agent_tools.add_argument(
        "--if-version", type=int, help="refuse unless the agent is still at this version"
    )

    tools = commands.add_parser("tools", help="custom tools run in the sandbox")
    tool_commands = tools.add_subparsers(dest="tools_command", required=True)
    add = tool_commands.add_parser("add", help="register a tool from FILE[:FUNCTION]")
    add.add_argument("spec", metavar="FILE[:FUNCTION]")
    tool_commands.add_parser("list", help="list registered tools")
    run = tool_commands.add_parser("run", help="run a tool in the sandbox, as an agent would")
    run.add_argument("name")
    run.add_argument("--args", default="{}", help="arguments as a JSON object")

    memory = commands.add_parser("memory", help="what Mnemo keeps about a user")
    memory.add_argument("action", choices=["show", "export", "forget"])
    memory.add_argument("--user", required=True)
    memory.add_argument("--workspace", default=CONSOLE_WORKSPACE)
    memory.add_argument("--out", type=Path, help="export: file to write (default: stdout)")
    memory.add_argument("--yes", action="store_true", help="forget: do not ask to confirm")

    jobs = commands.add_parser("jobs", help="background memory jobs and their recorded runs")
    job_commands = jobs.add_subparsers(dest="jobs_command", required=True)
    listing = job_commands.add_parser("list", help="recorded runs, newest first")
    listing.add_argument("--job", help="only this job's runs")
    listing.add_argument("--limit", type=int, default=30)
    run_job = job_commands.add_parser("run", help="run a job now, even if it ran this slot")
    run_job.add_argument("name", choices=["consolidate", "hygiene", "digest", "retention"])
    retention = job_commands.add_parser("retention", help="days of recall a workspace keeps")
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
            for agent in await store.agents.list():
                print(f"{agent.name}\t{agent.id}\t{agent.model}\t{','.join(agent.tags)}")
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
    async with _store(settings) as store:
        data = UserDataWithJobRecords(store)
        if args.action == "show":
            print(render_report(await data.about_user(args.workspace, args.user)))
        elif args.action == "export":
            document = await data.export_user(args.workspace, args.user)
            if args.out:
                args.out.write_bytes(document)
                print(f"wrote {args.out}")
            else:
                sys.stdout.write(document.decode() + "\n")
        else:
            question = f"Delete everything kept about {args.user}? [y/N] "
            if not args.yes and not await asyncio.to_thread(_confirmed, question):
                print("nothing deleted (pass --yes to delete without asking)")
                return 1
            removed = await data.forget_user(args.workspace, args.user)
            print(json.dumps({"user": args.user, "records_deleted": removed}))
    return 0


def _confirmed(question: str) -> bool:
    """Whether the person answered yes; no terminal to ask (end of input) means no."""
    try:
        answer = input(question)
    except EOFError:
        print()
        return False
    return answer.strip().lower() in ("y", "yes")


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


async def _jobs(settings: Settings, args: argparse.Namespace) -> int:
    if args.jobs_command == "run":
        runtime = await build_runtime(settings)
        try:
            runs = await runtime.jobs.run_now(args.name)
            # Conversations still active, or nothing new since the last run: nothing is due.
            print(format_runs(runs) if runs else f"{args.name}: nothing to do now")
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


async def _run(settings: Settings) -> int:
    from bot.process import serve

    return await serve(settings)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        match args.command:
            case "run":
                return asyncio.run(_run(settings))
            case "chat":
                return asyncio.run(_chat(settings, args))
            case "agents":
                return asyncio.run(_agents(settings, args))
            case "memory":
                return asyncio.run(_memory(settings, args))
            case "tools":
                return asyncio.run(_tools(settings, args))
            case "jobs":
                return asyncio.run(_jobs(settings, args))
    except SettingsError as exc:
        print(f"mnemo: {exc}", file=sys.stderr)
        return 2
    except MongoUnreachableError as exc:
        print(f"mnemo: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
